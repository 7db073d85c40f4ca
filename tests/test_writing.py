"""The writing checks themselves: each must catch what it is for, and pass good writing."""

import pytest

import writing


@pytest.mark.parametrize("bad, rule", [
    ("give 2.0 mg IV", "trailing zero"),
    ("give 0.50 mg", "trailing zero"),
    ("give .5 mg", "no leading zero"),
    ("1000 units", "no thousands separator"),
    ("5000 mg over 24 hours", "no thousands separator"),
    ("1000 U/m²", "banned abbreviation"),
    ("50 IU", "banned abbreviation"),
    ("15 µg", "banned abbreviation"),
    ("5 cc", "banned abbreviation"),
    ("given IT on day 1", "IT as a route"),
    ("vincristine 0.33 mg", "name not in Tall Man letters"),
    ("Daunorubicin 6.6 mg", "name not in Tall Man letters"),
])
def test_catches(bad, rule):
    assert any(p.startswith(rule) for p in writing.problems(bad))


@pytest.mark.parametrize("good", [
    "vinCRIStine 0.33 mg IV", "1,000 units/m²", "1,107 mg", "0.5 mg", "2 mg", "DAUNOrubicin 6.6 mg",
    "INTRATHECAL", "12.5 mcg/mL", "Mon 6 Jul 2026 10:00", "docs/reference.md §11", "2–3 × 10⁹/L",
])
def test_passes(good):
    assert writing.problems(good) == []


def test_vinca_and_intrathecal():
    assert not writing.vinca_and_intrathecal_apart("vinCRIStine 0.33 mg IV ... methotrexate 6 mg INTRATHECAL")
    assert writing.vinca_and_intrathecal_apart("methotrexate 6 mg INTRATHECAL")
