"""BSA by each formula, and age in completed calendar months."""

from datetime import date, timedelta
from math import log10, sqrt

import pytest
from hypothesis import given, strategies as st

from dosing.body import age_in_months, bsa
from dosing.units import Q


@pytest.mark.parametrize("kg, cm, expected", [
    (6, 62, 0.3215),  # docs/reference.md §1 worked value: √(62 × 6 / 3600) = √0.10333 = 0.3215
    (4, 54, 0.2449),  # √(54 × 4 / 3600) = √0.06 = 0.2449
    (9, 72, 0.4243),  # √(72 × 9 / 3600) = √0.18 = 0.4243
])
def test_mosteller_reference_values(kg, cm, expected):
    assert bsa(Q(kg, "kg"), Q(cm, "cm")).m_as("m**2") == pytest.approx(expected, abs=5e-5)


def test_each_formula_as_reference_md_writes_it():
    kg, cm = 6.0, 62.0
    w = Q(kg, "kg")
    h = Q(cm, "cm")
    # Haycock: 0.024265 × 62^0.3964 × 6^0.5378
    assert bsa(w, h, "haycock").m_as("m**2") == pytest.approx(0.024265 * 62**0.3964 * 6**0.5378)
    # DuBois: 0.007184 × 62^0.725 × 6^0.425
    assert bsa(w, h, "dubois").m_as("m**2") == pytest.approx(0.007184 * 62**0.725 * 6**0.425)
    # Gehan-George: 0.0235 × 62^0.42246 × 6^0.51456
    assert bsa(w, h, "gehan_george").m_as("m**2") == pytest.approx(0.0235 * 62**0.42246 * 6**0.51456)
    # Boyd: 0.0003207 × 62^0.3 × 6000^(0.7285 − 0.0188 × log10 6000), weight in grams
    assert bsa(w, h, "boyd").m_as("m**2") == pytest.approx(0.0003207 * 62**0.3 * 6000 ** (0.7285 - 0.0188 * log10(6000)))


def test_bsa_from_other_units():
    # 13.7 lb = 6.2142 kg; 24.8 in = 62.992 cm; √(62.992 × 6.2142 / 3600) = 0.32975
    assert bsa(Q(13.7, "lb"), Q(24.8, "in")).m_as("m**2") == pytest.approx(sqrt(62.992 * 13.7 * 0.45359237 / 3600))


@pytest.mark.parametrize("born, on, months", [
    (date(2026, 1, 31), date(2026, 2, 28), 1),  # the example: shorter month
    (date(2026, 1, 31), date(2026, 2, 27), 0),
    (date(2024, 1, 31), date(2024, 2, 29), 1),  # leap year
    (date(2024, 1, 31), date(2024, 2, 28), 0),
    (date(2026, 3, 15), date(2026, 9, 15), 6),  # docs/reference.md §1: born 15 March, 6 months on 15 September
    (date(2026, 3, 15), date(2026, 9, 14), 5),
    (date(2025, 6, 10), date(2026, 6, 10), 12),
    (date(2025, 6, 10), date(2026, 6, 9), 11),
    (date(2024, 2, 29), date(2025, 2, 28), 12),
    (date(2026, 5, 1), date(2026, 5, 1), 0),
])
def test_completed_months(born, on, months):
    assert age_in_months(born, on) == months


@given(st.dates(date(2020, 1, 1), date(2030, 1, 1)), st.integers(0, 1200))
def test_age_never_falls_and_rises_by_at_most_one_a_day(born, days):
    on = born + timedelta(days=days)
    today, tomorrow = age_in_months(born, on), age_in_months(born, on + timedelta(days=1))
    assert tomorrow - today in (0, 1)
    # Completed months are never more than the days allow (a month has at least 28 days).
    assert today * 28 <= days
