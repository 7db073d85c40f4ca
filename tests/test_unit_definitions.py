"""The registry is built from our two definition files only (dosing/pint_defaults.txt, dosing/units.txt).

pint_defaults.txt is the part of pint's default_en.txt the project uses, copied
line for line, so every conversion is pint's own; a unit in neither file is
undefined. Building the registry reads no cache and writes nothing (pint's
cache folder was ~/.cache/pint, outside the output folder). Expected values
below are worked by hand from the definitions of the units (international
yard and pound, SI prefixes), never taken from the code under test.
"""

import os
import subprocess
import sys
from pathlib import Path

import pint
import pytest

from dosing.unit_registry import DEFINITIONS, PINT_DEFINITIONS
from dosing.units import Q
from tests.conftest import EXAMPLES, ROOT


def definition_lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def test_our_copy_is_pint_line_for_line():
    # A definition changed by hand would change a conversion silently; a newer pint that changes one shows here.
    theirs = set(definition_lines(Path(pint.__file__).with_name("default_en.txt")))
    ours = definition_lines(PINT_DEFINITIONS)
    assert len(ours) == 22
    assert [line for line in ours if line not in theirs] == []


def test_the_registry_knows_only_our_two_files():
    # In a fresh process: pint adds each prefixed unit (mg, cm ...) to the registry's table on first use.
    code = "from dosing.units import registry; print(sorted({d.name for d in registry()._units.values()}))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # 16 units from pint (its 5 prefixes make the rest: mg, mL, cm, dL, kg, umol ...) and 5 of ours
    assert done.stdout.strip() == str(sorted([
        "meter", "second", "candela", "gram", "mole", "percent", "grain", "minute", "hour", "day", "liter", "enzyme_unit",
        "inch", "yard", "ounce", "pound", "units", "mcg", "cell", "billion_cells_per_liter", "standard_body_surface"]))
    assert DEFINITIONS.parent == PINT_DEFINITIONS.parent == ROOT / "dosing"


@pytest.mark.parametrize("written, value, into, expected", [
    ("lb", 1, "g", 453.59237),             # 7000 grains of 64.79891 mg
    ("oz", 1, "g", 28.349523125),          # a pound / 16
    ("inch", 1, "cm", 2.54),               # 0.9144 m / 36
    ("mcg", 1500, "mg", 1.5),
    ("mg/m**2", 1.5, "mcg/m**2", 1500),
    ("mL/hour", 2, "mL/day", 48),
    ("dL", 1, "mL", 100),
    ("L", 1, "cm**3", 1000),               # a cubic decimetre
    ("mg/dL", 1, "mg/L", 10),
    ("umol/L", 88.4, "mol/L", 88.4e-6),
    ("enzyme_unit/L", 1, "umol/minute/L", 1),
    ("billion_cells_per_liter", 0.5, "cells/L", 0.5e9),
    ("mL/minute/standard_body_surface", 1.73, "mL/minute/m**2", 1),
    ("percent", 12.5, "", 0.125),
    ("day", 1, "minute", 1440),
])
def test_conversions_worked_by_hand(written, value, into, expected):
    assert Q(value, written).m_as(into) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["furlong", "tonne", "t", "Da", "cc", "week", "nit", "ft", "IU", "light_year"])
def test_a_unit_in_neither_file_is_undefined(name):
    # pint's whole default file knows all but IU; none is a unit a dose, a measurement or a result is written in.
    with pytest.raises(pint.UndefinedUnitError, match=f"'{name}' is not defined"):
        Q(1, name)


def test_making_orders_writes_no_cache_and_nothing_outside_the_output_folder(tmp_path):
    # pint's registry cache went to the user's cache folder (platformdirs: $XDG_CACHE_HOME/pint); the JSON
    # orders write nothing at all, anywhere: the home, the cache folder and the working folder stay empty.
    home, cache, work = (tmp_path / name for name in ("home", "cache", "work"))
    for folder in (home, cache, work):
        folder.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "dosing", "sheet", str(EXAMPLES / "standard-risk.toml"), "--phase", "induction",
                           "--start", "2026-06-01", "--format", "json"], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"drug": "vincristine"' in done.stdout
    assert [p for folder in (home, cache, work) for p in folder.rglob("*")] == []
