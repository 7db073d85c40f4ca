"""One registry, our own definitions, and pint's traps closed."""

import subprocess
import sys

import pint
import pytest
from hypothesis import given, strategies as st

from dosing.regimen import parse_dose
from conftest import ROOT
from dosing.units import Q, basis_kind, is_pure_number, parse_measure, registry


def test_one_registry_for_the_whole_program():
    assert registry() is registry()
    assert Q(1, "mg")._REGISTRY is registry()


def test_units_is_enzyme_activity_not_luminance():
    # Pint's default reads "units" as micro-nit (luminance). Ours is its own dimension.
    assert Q(1000, "units").dimensionality == registry().parse_units("units").dimensionality
    assert str(Q(1, "units").dimensionality) == "[enzyme_activity]"
    assert not Q(1, "units").check("[luminosity] / [length] ** 2")


def test_units_can_never_become_mg():
    with pytest.raises(pint.DimensionalityError):
        Q(1000, "units").to("mg")
    with pytest.raises(pint.DimensionalityError):
        (Q(1000, "units/m**2") * Q(0.3, "m**2")).to("mg")


def test_mg_per_kg_is_not_a_plain_number():
    # pint reduces mg/kg to a dimensionless 1e-6; a per-kg dose must not pass as a fraction.
    assert Q(2, "mg/kg").dimensionless  # the trap itself
    assert not is_pure_number(Q(2, "mg/kg"))
    assert is_pure_number(Q(2, ""))
    assert basis_kind(parse_dose("0.05 mg/kg")) == "per_kg"
    # 0.05 mg/kg × 6 kg = 0.3 mg
    assert (parse_dose("0.05 mg/kg") * Q(6, "kg")).to("mg").magnitude == pytest.approx(0.3)


@pytest.mark.parametrize("text, kind", [
    ("1.5 mg/m2", "per_m2"), ("6 mg/m2/day", "per_m2"), ("1000 units/m2", "per_m2"),
    ("15 mcg/m2/day", "per_m2"), ("82.5 units/kg", "per_kg"), ("6 mg", "fixed"),
])
def test_dose_units_from_the_allow_list(text, kind):
    assert basis_kind(parse_dose(text)) == kind


@pytest.mark.parametrize("text", ["1000 U/m2", "1000 IU/m2", "15 µg/m2", "5 cc", "2 mg/cm2", "2 g/m2", "2 mg/m^2", "two mg"])
def test_dose_units_outside_the_allow_list_are_refused(text):
    with pytest.raises(ValueError):
        parse_dose(text)


@pytest.mark.parametrize("text, kg", [
    ("6.2 kg", 6.2), ("6200 g", 6.2), ("6.2kg", 6.2), ("  6.2 KG ", 6.2), ("6.2 Kg", 6.2), (".5 kg", 0.5),
    ("13.7 lb", 13.7 * 0.45359237), ("13.7 lbs", 13.7 * 0.45359237), ("220 oz", 220 * 0.028349523125),
])
def test_weights_in_the_units_a_ward_writes(text, kg):
    # 1 lb = 0.45359237 kg and 1 oz = 1/16 lb = 0.028349523125 kg exactly (international yard and pound).
    assert parse_measure(text, "weight").m_as("kg") == pytest.approx(kg)


@pytest.mark.parametrize("text, cm", [("63 cm", 63), ("630 mm", 63), ("0.63 m", 63), ("24.8 in", 24.8 * 2.54), ("24.8 IN", 24.8 * 2.54)])
def test_lengths_in_the_units_a_ward_writes(text, cm):
    assert parse_measure(text, "length").m_as("cm") == pytest.approx(cm)


@pytest.mark.parametrize("text, says", [
    ("63 cm", "'cm' is a unit of length, not of weight"),
    ("6", "the unit is missing (g, kg, lb, lbs, oz)"),
    ("kg 6", "does not start with a number"),
    ("6,4 kg", "decimal comma"),
    ("6.4 (kg", "'(kg' is not a unit of weight"),              # pint's tokenizer raised TokenError on this
    ("6.4 kg # 14.1 lb", "'kg # 14.1 lb' is not a unit"),       # a comment after the unit
    ("6.4 kg;", "'kg;' is not a unit"),
    ("6.4 kg**2/kg", "'kg**2/kg' is not a unit"),               # pint reduced this to kg
    ("6 kg * 2", "'kg * 2' is not a unit"),
    ("6 lb 4 oz", "'lb 4 oz' is not a unit"),                  # two units: write it in one
    ("6.4 Da", "'Da' is not a unit"), ("6.4 gr", "'gr' is not a unit"), ("6.4 grain", "'grain' is not a unit"),
    ("6400000 mg", "'mg' is not a unit of weight"),            # a weight in mg is a slip
    ("6.4 t", "'t' is not a unit"), ("6 units", "'units' is not a unit"), ("6 kg/m", "'kg/m' is not a unit"),
    ("6.2e0 kg", "'e0 kg' is not a unit"),                     # no exponents
    ("٦.٢ kg", "does not start with a number"),                # Arabic-Indic digits: ASCII digits only
    ("6.2\u200bkg", "'\\u200bkg' is not a unit"),               # a zero-width space before the unit
    ("6.2 " + "k" * 500, "'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'… is not a unit"),  # quoted, cut short
])
def test_not_a_weight(text, says):
    with pytest.raises(ValueError) as refused:
        parse_measure(text, "weight")
    assert says in str(refused.value)


@pytest.mark.parametrize("text", ["1 ly", "1 light_year", "63 ft", "2 ft 1 in", "63 cm;", "63 cm**2/cm", "63 kg", "63 pc", "63 angstrom"])
def test_not_a_length(text):
    with pytest.raises(ValueError):
        parse_measure(text, "length")


def test_percent_and_anthracycline_amount():
    assert parse_measure("0.04 %", "percent").m_as("percent") == pytest.approx(0.04)
    assert parse_measure("6.6 mg", "anthracycline amount").m_as("mg") == pytest.approx(6.6)
    for text, kind in (("0.04", "percent"), ("0.04 %%", "percent"), ("6.6 g", "anthracycline amount"), ("6600 mcg", "anthracycline amount")):
        with pytest.raises(ValueError):
            parse_measure(text, kind)


@given(st.text(max_size=30))
def test_any_text_is_a_weight_or_a_value_error(text):
    # Whatever is typed, the answer is a mass from the list or a ValueError for the patient loader to name: never a pint error.
    try:
        quantity = parse_measure(text, "weight")
    except ValueError:
        return
    assert str(quantity.units) in ("gram", "kilogram", "pound", "ounce")


@given(st.floats(0.3, 30), st.floats(25, 120))
def test_dose_dimensions(kg, cm):
    from dosing.body import bsa
    from dosing.dose import per_administration

    area = bsa(Q(kg, "kg"), Q(cm, "cm"))
    assert area.check("[length] ** 2")
    assert per_administration(parse_dose("1.5 mg/m2"), area, Q(kg, "kg"), 1).check("[mass]")
    assert per_administration(parse_dose("1000 units/m2"), area, Q(kg, "kg"), 1).check("[enzyme_activity]")
    assert per_administration(parse_dose("6 mg/m2/day"), area, Q(kg, "kg"), 3).check("[mass]")
    assert per_administration(parse_dose("0.05 mg/kg"), area, Q(kg, "kg"), 1).check("[mass]")


def test_two_threads_asking_first_get_the_one_registry():
    # In a fresh process, eight threads ask for the registry at the same moment (as a server's first requests may):
    # all get the same object, so their quantities mix (pint refuses quantities of two registries).
    code = """
import threading
from dosing import units
start, got = threading.Barrier(8), []
def ask():
    start.wait()
    got.append(units.registry())
threads = [threading.Thread(target=ask) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(len(got), len({id(r) for r in got}), got[0].Quantity(1, "mg") + got[-1].Quantity(1, "mg"))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["8", "1", "2", "milligram"], done.stderr
