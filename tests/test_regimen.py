"""Regimen data: the shipped protocol loads; every malformed file is refused with its file and line.

tests/regimen_faults/ holds one broken induction file per failure mode; its
first line says which line the error must name and what it must say.
"""

import re
import shutil
from pathlib import Path

import pytest

from dosing.errors import RegimenError
from dosing.regimen import TAGS, load_phase, load_protocol

ROOT = Path(__file__).resolve().parent.parent
FAULTS = sorted((Path(__file__).parent / "regimen_faults").glob("*.toml"))


@pytest.fixture
def regimens(tmp_path):
    """A copy of the shipped regimens/ to break."""
    copy = tmp_path / "regimens"
    shutil.copytree(ROOT / "regimens", copy)
    return copy


def test_shipped_protocol_loads_and_every_value_is_tagged():
    protocol = load_protocol()
    phase = load_phase(protocol, "induction")
    assert phase.length_days.value == 36
    for order in phase.orders:
        values = [order.days_value, order.age_value, order.infant_fraction, order.cap, order.rounding, order.duration]
        values += [step.value for step in order.steps]
        for value in filter(None, values):
            assert value.tag in TAGS and value.source.strip()


def test_induction_is_reference_md_section_3():
    phase = load_phase(load_protocol(), "induction")
    by_drug = {(o.drug.name, o.route): o for o in phase.orders}
    assert by_drug[("vincristine", "IV")].days == (8, 15, 22, 29, 36)
    assert by_drug[("daunorubicin", "IV")].days == (8, 22)
    assert by_drug[("pegaspargase", "IV")].days == (5,)
    assert by_drug[("dexamethasone", "PO")].days == tuple(range(1, 37))
    for drug in ("methotrexate", "cytarabine", "dexamethasone"):
        assert by_drug[(drug, "INTRATHECAL")].days == (1, 8, 15, 22, 29, 36)
    dex = by_drug[("dexamethasone", "PO")]
    assert [(s.text, s.days[0], s.days[-1]) for s in dex.steps] == [
        ("6 mg/m2/day", 1, 28), ("3 mg/m2/day", 29, 31), ("1.5 mg/m2/day", 32, 34), ("0.75 mg/m2/day", 35, 36)]
    assert dex.divided == 3
    assert by_drug[("vincristine", "IV")].cap.value.m_as("mg") == 2
    # Provenance as reference.md tags it: daunorubicin dose P, its days S; the IT dexamethasone table is a placeholder.
    assert by_drug[("daunorubicin", "IV")].steps[0].value.tag == "P"
    assert by_drug[("daunorubicin", "IV")].days_value.tag == "S"
    assert by_drug[("dexamethasone", "INTRATHECAL")].age_value.tag == "?"
    # The label rules are expressible but off in the reference regimen.
    assert not by_drug[("pegaspargase", "IV")].small_infant.use
    assert not by_drug[("vincristine", "IV")].small_infant.use


@pytest.mark.parametrize("fault", FAULTS, ids=[f.stem for f in FAULTS])
def test_malformed_regimen_is_refused_with_file_and_line(regimens, fault):
    expected_line, words = re.match(r"# expect line (\d+): (.*)", fault.read_text().splitlines()[0]).groups()
    shutil.copy(fault, regimens / "all-baby-2021" / "induction.toml")
    with pytest.raises(RegimenError) as refused:
        load_phase(load_protocol(regimens), "induction")
    assert refused.value.path.name == "induction.toml"
    assert refused.value.line == int(expected_line), str(refused.value)
    assert words in str(refused.value)


@pytest.mark.parametrize("old, new, words, key", [
    ('formula = { value = "mosteller"', 'formula = { value = "mostellar"', "unknown BSA formula", "formula ="),
    ('{ below_months = 6, factor = "2/3" }', '{ below_months = 6, factor = "two thirds" }', "must be a fraction", "bands ="),
    ('], tag = "P", source = "docs/reference.md §1: Interfant', '], source = "docs/reference.md §1: Interfant', "no valid provenance tag", "bands ="),
    ('rounding = { value = "0.01 mg", tag = "A"', 'rounding = { value = "0.01 mg/m2", tag = "A"', "must be an amount", "rounding ="),
    ('{ from_months = 12, dose = "8 mg" }', '{ from_months = 12, dose = "8 mg/m2" }', "fixed amount", "dose ="),
])
def test_malformed_protocol_settings_are_refused(regimens, old, new, words, key):
    """A value written over several lines is pointed at by the line of its key."""
    path = regimens / "all-baby-2021" / "protocol.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(RegimenError) as refused:
        load_protocol(regimens)
    assert words in str(refused.value)
    assert path.read_text().splitlines()[refused.value.line - 1].lstrip().startswith(key)


def test_drug_catalogue_cannot_grant_intrathecal_to_a_vinca(regimens):
    path = regimens / "drugs.toml"
    path.write_text(path.read_text().replace('class = "vinca"\nroutes = ["IV"]', 'class = "vinca"\nroutes = ["IV", "INTRATHECAL"]', 1))
    with pytest.raises(RegimenError, match="never be given INTRATHECAL"):
        load_protocol(regimens)


def test_cli_refuses_malformed_regimen_with_exit_3(run, regimens, tmp_path):
    shutil.copy(FAULTS[0], regimens / "all-baby-2021" / "induction.toml")
    status, _, stderr = run("sheet", ROOT / "examples" / "standard-risk.toml", "--phase", "induction",
                            "--start", "2026-06-01", "--regimens", regimens, "--out", tmp_path / "out")
    assert status == 3 and "induction.toml, line" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out").exists()
