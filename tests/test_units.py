"""One registry, our own definitions, and pint's traps closed."""

import pint
import pytest
from hypothesis import given, strategies as st

from dosing.units import Q, basis_kind, is_pure_number, parse_dose, parse_measure, registry


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


@pytest.mark.parametrize("text, kg", [("6.2 kg", 6.2), ("6200 g", 6.2), ("13.7 lb", 13.7 * 0.45359237), ("220 oz", 220 * 0.028349523125)])
def test_weights_in_any_mass_unit(text, kg):
    assert parse_measure(text, "[mass]").m_as("kg") == pytest.approx(kg)


@pytest.mark.parametrize("text", ["63 cm", "6", "6 kg * 2", "6 units", "6 kg/m", "6 m**2"])
def test_not_a_weight(text):
    with pytest.raises(ValueError):
        parse_measure(text, "[mass]")


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
