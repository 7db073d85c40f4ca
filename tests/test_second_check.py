"""The second check shares nothing with the engine but the files, agrees with it, and a slip in either the
engine's arithmetic or its data reader refuses the sheet.

The patient here (conftest.BASE_PATIENT): born 2026-02-10, 6.2 kg and 63 cm on 2026-05-04, induction from
2026-05-05. BSA = √(63 × 6.2 ÷ 3600) = √0.1085 = 0.32939... → 0.3294 m² (rounded half up to 0.0001 m²).
"""

import ast
import decimal
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, centre_regimens, given, orders_json

PACKAGE = ROOT / "dosing" / "second_check"
DAUNORUBICIN = 'value = "30 mg/m2", tag = "P", source = "docs/reference.md §3: Interfant-99"'  # induction.toml, days 8 and 22
OVERRIDE = ("--override-pathway", "a test of the second check", "--override-dates", "a test of the second check")


def refused(status, err) -> bool:
    return status == 3 and "second calculation disagrees" in err and "do not give" in err


def test_agrees_and_the_sheet_says_so(run, tmp_path):
    status, _, err = run("sheet", EXAMPLES / "turns-six-months.toml", "--phase", "induction", "--start", "2026-06-01", "--out", tmp_path)
    assert status == 0, err
    from pypdf import PdfReader
    text = " ".join(p.extract_text() for p in PdfReader(next(tmp_path.glob("*_orders.pdf"))).pages)
    assert "independent second calculation" in " ".join(text.split())


# -- the two defects of issue 14: a dose written mg/m² or without a space -----------------------------

@pytest.mark.parametrize("written", ["30 mg/m²", "30mg/m2", "30 mg / m2"])
def test_a_dose_written_otherwise_gives_the_same_sheet(run, patient_file, tmp_path, written):
    # Before issue 14 the second check read "30 mg/m²" as 30 mg flat (every sheet refused) and ended
    # "30mg/m2" in "internal error". Daunorubicin day 8: age 3 months (born 10 Feb, 12 May), fraction 2/3:
    # 30 mg/m² × 0.3294 m² × 2/3 = 6.588 mg → 6.6 mg at the 0.1 mg step (0.2 % from 6.588, within 10 %).
    path = patient_file()
    standard = orders_json(run, path)
    centre = centre_regimens(tmp_path, "all-baby-2021/induction.toml", DAUNORUBICIN, DAUNORUBICIN.replace("30 mg/m2", written))
    other = orders_json(run, path, extra=("--regimens", centre))
    assert given(standard, "daunorubicin", "IV", 8)["dose"] == given(other, "daunorubicin", "IV", 8)["dose"] == 6.6
    assert given(other, "daunorubicin", "IV", 22)["dose"] == 6.6  # 22 May: still 3 months old
    assert given(other, "daunorubicin", "IV", 8)["basis"] == written  # the sheet prints it as the centre wrote it
    unprinted = ("basis", "warnings")
    assert [{k: v for k, v in a.items() if k not in unprinted} for a in other["administrations"]] == \
        [{k: v for k, v in a.items() if k not in unprinted} for a in standard["administrations"]]


def test_a_centre_using_the_label_rules_and_another_bsa_formula_gets_its_sheet(run, tmp_path):
    # Rules the reference regimen leaves off, each worked again by the second check. Standard-risk: 6.4 kg, 62 cm.
    import math

    centre = centre_regimens(tmp_path, "all-baby-2021/induction.toml", 'when_weight_at_most = "10 kg", use = false',
                             'when_weight_at_most = "10 kg", use = true')
    protocol = centre / "all-baby-2021" / "protocol.toml"
    protocol.write_text(protocol.read_text().replace('formula = { value = "mosteller"', 'formula = { value = "boyd"', 1))
    data = orders_json(run, EXAMPLES / "standard-risk.toml", start="2026-06-01", extra=("--regimens", centre, *OVERRIDE))
    # Boyd: 0.0003207 × 62^0.3 × 6400^(0.7285 − 0.0188 × log10 6400) m², rounded to 0.0001 m².
    assert data["bsa_m2"] == round(0.0003207 * 62**0.3 * 6400 ** (0.7285 - 0.0188 * math.log10(6400)), 4)
    # The vincristine label's rule for infants up to 10 kg: 0.05 mg/kg × 6.4 kg = 0.32 mg, no infant fraction.
    assert (given(data, "vincristine", "IV", 8)["dose"], given(data, "vincristine", "IV", 8)["rule"]) == (0.32, "label weight rule")


# -- a slip in the engine's arithmetic -----------------------------------------------------------------

@pytest.mark.parametrize("slip", ["round_down", "wrong_factor", "lost_cap", "bsa"])
def test_an_engine_slip_refuses_the_sheet(run, monkeypatch, tmp_path, slip):
    from dosing import body, dose

    if slip == "round_down":
        def round_down(exact, size):  # the engine's one rounding step, made to round down
            return (exact / size).quantize(decimal.Decimal(1), rounding=decimal.ROUND_DOWN) * size
        monkeypatch.setattr(dose, "_half_up", round_down)
    elif slip == "wrong_factor":
        monkeypatch.setattr(dose, "apply_factor", lambda amount, factor: amount)  # forgets the infant fraction
    elif slip == "lost_cap":
        monkeypatch.setattr(dose, "apply_cap", lambda amount, cap, n: (amount * 1.5, False))
    else:
        real = body.bsa
        monkeypatch.setattr(body, "bsa", lambda weight, length, formula: real(weight, length, formula) * 1.02)  # 2 % too large
    status, out, err = run("sheet", EXAMPLES / "standard-risk.toml", "--phase", "induction", "--start", "2026-06-01", "--out", tmp_path / "out")
    assert refused(status, err), err
    assert not (tmp_path / "out").exists()


def test_the_engine_choosing_the_wrong_measurement_is_caught(run, monkeypatch, patient_file):
    # The measurement a phase uses is the newest dated on or before day 1: here 6.2 kg on 4 May, not 7 kg on 20 May.
    from dosing.patient import Patient

    path = patient_file(measurements=[{"date": "2026-05-04", "weight": "6.2 kg", "length": "63 cm"},
                                      {"date": "2026-05-20", "weight": "7 kg", "length": "65 cm"}])
    assert orders_json(run, path)["weight_kg"] == 6.2
    monkeypatch.setattr(Patient, "measurement_on", lambda self, day: max(self.measurements, key=lambda m: m.date))  # ignores day 1
    status, _, err = run("sheet", path, "--phase", "induction", "--start", "2026-05-05", "--format", "json")
    assert refused(status, err) and "measurement used: the engine gives 2026-05-20, the second check 2026-05-04" in err


def test_the_engine_covering_the_wrong_weeks_is_caught(run, monkeypatch):
    # A maintenance sheet covers the phase's default_weeks (8) from day 1 unless --weeks is given: 1 Sep to 26 Oct 2026.
    from datetime import timedelta

    from dosing import issuing

    maintenance = ("sheet", EXAMPLES / "ir-block-path.toml", "--phase", "maintenance", "--start", "2026-09-01", "--format", "json", *OVERRIDE)
    status, out, err = run(*maintenance)
    assert status == 0 and json.loads(out)["window"] == {"from": "2026-09-01", "to": "2026-10-26"}, err
    real = issuing.request_options
    monkeypatch.setattr(issuing, "request_options", lambda request, window: real(request, (window[0], window[1] - timedelta(weeks=1))))
    status, _, err = run(*maintenance)
    assert refused(status, err) and "the engine gives {'from': '2026-09-01', 'to': '2026-10-19'}, the second check {'from': '2026-09-01', 'to': '2026-10-26'}" in err


# -- a slip in the engine's data reader ----------------------------------------------------------------

def test_a_slip_in_the_regimen_reader_refuses_the_sheet(run, monkeypatch, patient_file, tmp_path):
    # The loader misreads daunorubicin's "30 mg/m2" as 3 mg/m2 (a digit lost); the second check reads the file itself.
    from dosing.regimen import grammar

    real = grammar.dose

    def misread(text):
        read = real(text)
        return type(read)(read.amount / 10, read.unit, read.per, read.per_day) if read.amount == 30 else read
    monkeypatch.setattr(grammar, "dose", misread)
    centre = centre_regimens(tmp_path, "all-baby-2021/induction.toml", DAUNORUBICIN, DAUNORUBICIN)  # a fresh folder: read anew
    status, _, err = run("sheet", patient_file(), "--phase", "induction", "--start", "2026-05-05", "--format", "json", "--regimens", centre)
    # 3 mg/m² × 0.3294 m² × 2/3 = 0.6588 mg → 0.7 mg: the engine's; the files say 6.6 mg (above).
    assert refused(status, err) and "daunorubicin IV day 8: the engine gives 0.7 mg × 1, the second check 6.6 mg × 1" in err


# -- bags of the continuous infusion ---------------------------------------------------------------------

BLINATUMOMAB = ("sheet", EXAMPLES / "ir-block-path.toml", "--phase", "blinatumomab", "--start", "2026-09-01", "--format", "json", *OVERRIDE)


def test_bags_agree_worked_by_hand(run):
    status, out, err = run(*BLINATUMOMAB)
    assert status == 0, err
    bag = json.loads(out)["bags"][0]
    # 7.3 kg, 66 cm: BSA √(66 × 7.3 ÷ 3600) = √0.133833 = 0.36583... → 0.3658 m²; 15 mcg/m²/day × 0.3658 = 5.487 → 5.49 mcg/day.
    # 24-hour bag at 10 mL/h: 240 mL infused; made of 270 mL saline + 5.5 mL stabiliser + drug at 12.5 mcg/mL:
    # drug volume = 5.49 × 275.5 ÷ (240 × 12.5 − 5.49) = 1512.495 ÷ 2994.51 = 0.5051 → 0.51 mL; bag 276.01 mL, overfill 36.01 mL;
    # delivers 0.51 × 12.5 × 240 ÷ 276.01 = 5.543 mcg; one 35 mcg vial (2.8 mL reconstituted) is enough.
    assert (bag["dose_mcg"], bag["volume_ml"], bag["rate_ml_per_h"]) == (5.49, 240.0, 10.0)
    assert {k: bag["preparation"][k] for k in ("vials", "reconstituted_ml", "bag_volume_ml", "overfill_ml", "delivers_mcg")} == \
        {"vials": 1, "reconstituted_ml": 0.51, "bag_volume_ml": 276.01, "overfill_ml": 36.01, "delivers_mcg": 5.543}


@pytest.mark.parametrize("slip", ["rate", "drug_volume", "vials"])
def test_a_bag_slip_refuses_the_sheet(run, monkeypatch, slip):
    import attrs

    from dosing import bags

    real = bags.make_bag

    def slipped(*args, **kwargs):
        bag = real(*args, **kwargs)
        if slip == "rate":
            return attrs.evolve(bag, rate=bag.rate * 1.1)
        if slip == "drug_volume":
            return attrs.evolve(bag, drug_volume=bag.drug_volume * 2)
        return attrs.evolve(bag, vials=bag.vials + 1)
    monkeypatch.setattr(bags, "make_bag", slipped)
    status, _, err = run(*BLINATUMOMAB)
    said = {"rate": "bag 1: rate (mL/h): the engine gives 11.0, the second check 10", "drug_volume": "bag 1: reconstituted drug (mL): "
            "the engine gives 1.02, the second check 0.51", "vials": "bag 1: vials: the engine gives 2, the second check 1"}[slip]
    assert refused(status, err) and said in err, err


def test_a_slip_in_the_bags_after_an_interruption_is_caught(run, monkeypatch):
    # Stopped after 3 days (72 hours), restarted 2 hours later: 672 − 72 = 600 hours remain, 25 bags of 24 hours.
    from dosing import bags

    resume = ("blinatumomab-resume", EXAMPLES / "ir-block-path.toml", "--start", "2026-09-01", "--stopped", "2026-09-04 08:00",
              "--restart", "2026-09-04 10:00", "--format", "json", *OVERRIDE)
    status, out, err = run(*resume)
    assert status == 0, err
    assert len(json.loads(out)["bags"]) == 25 and json.loads(out)["bags"][0]["start"] == "2026-09-04T10:00"
    real = bags.resume
    monkeypatch.setattr(bags, "resume", lambda *a, **k: (lambda r: attrs_evolve(r, bags=r.bags[:-1]))(real(*a, **k)))
    status, _, err = run(*resume)
    assert refused(status, err) and "bags: the engine plans 24, the second check 25" in err


def attrs_evolve(instance, **changes):
    import attrs

    return attrs.evolve(instance, **changes)


# -- independent: its own decimal context, no dosing module, no pint ----------------------------------

def test_the_process_decimal_context_is_untouched_and_does_not_matter(run):
    from dosing import second_check

    path = EXAMPLES / "ir-block-path.toml"
    status, out, err = run(*BLINATUMOMAB)
    assert status == 0, err
    options = {"infusion_start": None, "window": None, "override": None, "bag_hours": 24, "substitute": None}
    with decimal.localcontext() as hostile:  # a caller's context of 3 digits, rounding down, must not move a dose
        hostile.prec, hostile.rounding = 3, decimal.ROUND_DOWN
        before = (id(decimal.getcontext()), repr(decimal.getcontext()))
        found = second_check.check(path.read_text(encoding="utf-8"), ROOT / "regimens", "all-baby-2021", "blinatumomab",
                                   date(2026, 9, 1), options, json.loads(out))
        assert (id(decimal.getcontext()), repr(decimal.getcontext())) == before
    assert found == []


def test_it_imports_nothing_from_dosing_and_no_pint():
    for module in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [] if node.level else [node.module]  # relative: its own modules
            else:
                continue
            assert all(name.split(".")[0] in sys.stdlib_module_names for name in names), (module.name, names)
    loaded = subprocess.run([sys.executable, "-c", "import sys, dosing.second_check; print(sorted(sys.modules))"],
                            capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    loaded = [name.strip("[],'") for name in loaded]
    assert "pint" not in loaded and "attrs" not in loaded
    assert {name for name in loaded if name.startswith("dosing")} <= {"dosing"} | {f"dosing.second_check{m}" for m in
                                                                         ["", ".reader", ".arithmetic", ".orders", ".expected", ".bags", ".compare",
                                                                          ".adjustments", ".rescue"]}


def test_a_string_off_the_grammar_is_a_disagreement_not_a_crash(tmp_path):
    from dosing import second_check

    centre = centre_regimens(tmp_path, "all-baby-2021/induction.toml", DAUNORUBICIN, DAUNORUBICIN.replace("30 mg/m2", "30 mg/m3"))
    patient = (EXAMPLES / "standard-risk.toml").read_text(encoding="utf-8")
    found = second_check.check(patient, centre, "all-baby-2021", "induction", date(2026, 6, 1), {"infusion_start": None, "window": None}, {})
    assert len(found) == 1 and "'30 mg/m3'" in found[0]
