"""The independent second calculation: it agrees with the engine, and a disagreement refuses the sheet."""

import pytest

from conftest import EXAMPLES
from dosing import dose


def test_agrees_for_every_phase_and_says_so(run, tmp_path):
    status, _, err = run("sheet", EXAMPLES / "turns-six-months.toml", "--phase", "induction", "--start", "2026-06-01", "--out", tmp_path)
    assert status == 0, err
    from pypdf import PdfReader
    text = " ".join(p.extract_text() for p in PdfReader(next(tmp_path.glob("*_orders.pdf"))).pages)
    assert "independent second calculation" in " ".join(text.split())


@pytest.mark.parametrize("slip", ["round_down", "wrong_factor", "lost_cap"])
def test_an_engine_slip_refuses_the_sheet(run, monkeypatch, tmp_path, slip):
    # Break the pint engine on purpose; the second calculation, which shares none of its code, must notice.
    if slip == "round_down":
        from decimal import ROUND_DOWN, Decimal

        def round_down(exact, size):  # the engine's one rounding step, made to round down
            return (exact / size).quantize(Decimal(1), rounding=ROUND_DOWN) * size
        monkeypatch.setattr(dose, "_half_up", round_down)
    elif slip == "wrong_factor":
        monkeypatch.setattr(dose, "apply_factor", lambda amount, factor: amount)  # forgets the infant fraction
    else:
        monkeypatch.setattr(dose, "apply_cap", lambda amount, cap, n: (amount * 1.5, False))
    status, out, err = run("sheet", EXAMPLES / "standard-risk.toml", "--phase", "induction", "--start", "2026-06-01", "--out", tmp_path / "out")
    assert status == 3 and "second calculation disagrees" in err and "do not give" in err
    assert not (tmp_path / "out").exists()
