"""Every example's JSON orders, in every phase and the options a pharmacist chooses,
are exactly the golden copy in tests/golden/ (written by tests/golden.py).

A difference fails with the first lines that differ, so a refactor that moves
one dose, one warning or one date shows it here.
"""

import difflib

import pytest

from golden import GOLDEN, cases, orders

CASES = list(cases())


def test_every_case_has_a_golden_copy_and_no_copy_is_stale():
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(name for name, _ in CASES)
    # 6 examples x 12 phases, 30 cases with options (5 phases x 6 examples), 4 cases of the examples with results
    assert len(CASES) == 106


@pytest.mark.parametrize("name,argv", CASES, ids=[name for name, _ in CASES])
def test_orders_match_the_golden_copy(name, argv):
    expected = (GOLDEN / f"{name}.json").read_text(encoding="utf-8")
    got = orders(argv)
    if got != expected:
        diff = difflib.unified_diff(expected.splitlines(), got.splitlines(), "golden", "now", lineterm="", n=2)
        pytest.fail(f"{name}: the orders changed\n" + "\n".join(list(diff)[:60]))
