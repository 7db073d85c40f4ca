"""Rounding half up to the product step, caps before rounding, totals without float noise."""

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from dosing.dose import apply_cap, round_half_up, times
from dosing.units import Q


@pytest.mark.parametrize("value, step, expected", [
    (0.325, "0.01 mg", 0.33),  # half a step goes up (round() would give 0.32)
    (0.335, "0.01 mg", 0.34),
    (2.5, "1 mg", 3.0),  # banker's rounding would give 2
    (0.025, "0.05 mg", 0.05),  # exactly half of 0.05: up
    (0.0249, "0.05 mg", 0.0),
    (217.5, "5 units", 220.0),  # 217.5 / 5 = 43.5 -> 44 -> 220
    (6.55, "0.1 mg", 6.6),
    (0.4392, "0.05 mg", 0.45),  # 0.4392 / 0.05 = 8.78 -> 9 -> 0.45
])
def test_round_half_up(value, step, expected):
    unit = step.split()[1]
    assert round_half_up(Q(value, unit), Q(*_split(step))).m_as(unit) == pytest.approx(expected, abs=1e-12)


def _split(text):
    number, unit = text.split()
    return float(number), unit


def test_float_noise_cannot_tip_a_half():
    # 0.1 × 3 × 1.075 is 0.3225000000000000 in decimal but not in binary floating point.
    noisy = 0.1 * 3 * 1.075
    assert round_half_up(Q(noisy, "mg"), Q(0.005, "mg")).m_as("mg") == pytest.approx(0.325, abs=1e-12)


def test_total_is_exact():
    # 0.35 mg × 3 doses = 1.05 mg (in floating point 0.35 * 3 is 1.0499999999999998)
    assert times(Q(0.35, "mg"), 3).m_as("mg") == 1.05


def test_cap_applies_before_rounding():
    # vinCRIStine: 1.5 mg/m² × 1.45 m² = 2.175 mg, above the 2 mg cap -> 2 mg
    capped, hit = apply_cap(Q(2.175, "mg"), Q(2, "mg"), 1)
    assert hit and capped.m_as("mg") == 2
    same, hit = apply_cap(Q(1.99, "mg"), Q(2, "mg"), 1)
    assert not hit and same.m_as("mg") == 1.99


def test_daily_cap_limits_the_day():
    # 28 mcg/day over 1 dose a day; 30 mcg asked -> 28 mcg
    capped, hit = apply_cap(Q(30, "mcg"), Q(28, "mcg/day"), 1)
    assert hit and capped.m_as("mcg") == pytest.approx(28)


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal(5000), places=4),
       st.sampled_from(["0.01", "0.05", "0.1", "0.5", "1", "5"]))
def test_rounding_stays_within_half_a_step_and_on_the_step(value, step):
    result = Decimal(repr(round_half_up(Q(float(value), "mg"), Q(float(step), "mg")).m_as("mg")))
    assert abs(result - value) <= Decimal(step) / 2
    assert (result / Decimal(step)) == (result / Decimal(step)).to_integral_value()
    # Exactly half a step always goes up.
    if (value / Decimal(step)) % 1 == Decimal("0.5"):
        assert result > value
