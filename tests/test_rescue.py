"""High-dose methotrexate from hydration to rescue (issue 15, item 2): dosing/rescue.py, its second check and its section.

Every threshold is methotrexate.toml's (docs/reference.md §12): the rescue
stops below 0.25 µmol/L; the leucovorin label escalates at 50 µmol/L or more
at 24 hours and 5 or more at 48 hours, steps down below 1 and continues above
0.2 at 72 hours; glucarpidase above 30 at 36 h, 10 at 42 h, 5 at 48 h. Each
is tested at the threshold and either side.
"""

import json
from datetime import date
from pathlib import Path

import attrs
import pytest

from conftest import EXAMPLES, ROOT
from dosing import pipeline, rescue
from dosing.documents.wording import sentences
from dosing.patient import load
from dosing.regimen import load_phase, load_protocol
from dosing.regimen.methotrexate import load as load_data
from dosing.results import LabResult
from dosing.units import Q

PROTOCOL = load_protocol()
DATA = load_data(PROTOCOL.directory)
EXAMPLE = EXAMPLES / "results" / "hd-mtx-delayed-clearance.toml"
START = date(2026, 9, 1)


def level(hours, umol, entry=1):
    return LabResult("methotrexate", Q(umol, "umol/L"), hours_after_start=hours, entry=entry)


def decided(hours, umol, state=rescue.STANDARD):
    return rescue.decide(DATA, level(hours, umol), state).outcome


def hr1(**changes):
    """HR1 for the example infant, with the patient file changed (labs, medications)."""
    patient = attrs.evolve(load(EXAMPLE), **changes)
    from datetime import time

    return pipeline.calculate(patient, PROTOCOL, load_phase(PROTOCOL, "HR1"), START, infusion_start=time(10, 0))


# -- each threshold, at and either side ------------------------------------------------------------

@pytest.mark.parametrize("umol,outcome", [(0.26, "continue"), (0.25, "continue"), (0.24, "stop")])
def test_the_rescue_stops_only_below_0_25(umol, outcome):
    # at 60 hours no label row but the 48-hour one (5 or more) applies: 0.25 is not below 0.25, 0.24 is
    assert decided(60, umol) == outcome


@pytest.mark.parametrize("umol,outcome", [(49.9, "continue"), (50, "escalate"), (50.1, "escalate")])
def test_50_at_24_hours_escalates(umol, outcome):
    assert decided(24, umol) == outcome


@pytest.mark.parametrize("umol,outcome", [(4.9, "continue"), (5, "escalate"), (5.1, "escalate")])
def test_5_at_48_hours_escalates(umol, outcome):
    assert decided(48, umol) == outcome


def test_a_level_between_the_rows_is_judged_by_the_row_before_it():
    # 36 hours: the 24-hour row (50 or more); 40 µmol/L does not escalate, 50 does
    assert decided(36, 40) == "continue"
    assert decided(36, 50) == "escalate"


@pytest.mark.parametrize("umol,outcome", [(0.9, "step down"), (1, "continue"), (1.1, "continue")])
def test_escalated_steps_down_below_1(umol, outcome):
    assert decided(60, umol, rescue.ESCALATED) == outcome


@pytest.mark.parametrize("umol,outcome", [(0.2, "stop"), (0.21, "late continue"), (0.24, "late continue"), (0.25, "continue")])
def test_above_0_2_at_72_hours_continues(umol, outcome):
    # the label's delayed late elimination row: above 0.2 at 72 h continues, though below the BFM 0.25
    assert decided(72, umol) == outcome


@pytest.mark.parametrize("hours,criterion", [(36, 30), (42, 10), (48, 5)])
@pytest.mark.parametrize("delta,met", [(-0.1, False), (0, False), (0.1, True)])
def test_glucarpidase_criteria(hours, criterion, delta, met):
    # above 30 at 36 h, 10 at 42 h, 5 at 48 h: exactly the criterion is not above it
    found = rescue._glucarpidase(DATA, level(hours, round(criterion + delta, 1)))
    assert (found is not None) == met
    if met:
        assert (found.at_hour, found.above) == (hours, criterion)


# -- the doses the levels give -----------------------------------------------------------------

def test_a_normal_clearance_stops_at_72_hours():
    # 48 h 0.3 (continue), 72 h 0.2 (not above 0.2: stop). Every 6 h from 42 h while the last level
    # before the dose says continue: 42, 48, 54, 60, 66, 72 (the 72-h dose is given while the level is awaited)
    decisions, doses, stopped = rescue.plan(DATA, (level(24, 30), level(48, 0.3), level(72, 0.2)), (42, 48, 54))
    assert [d.outcome for d in decisions] == ["continue", "continue", "stop"]
    assert doses == tuple((h, rescue.STANDARD) for h in (42, 48, 54, 60, 66, 72))
    assert stopped == 72


def test_the_phase_s_own_three_doses_are_never_dropped():
    decisions, doses, stopped = rescue.plan(DATA, (level(42, 0.2),), (42, 48, 54))
    assert doses == ((42, "standard"), (48, "standard"), (54, "standard")) and stopped == 42


def test_still_high_runs_to_the_next_level_to_draw():
    # last level 48 h 0.8: the next to draw is 72 h (48 + 24), so doses 42 ... 72 every 6 h
    _, doses, stopped = rescue.plan(DATA, (level(48, 0.8),), (42, 48, 54))
    assert [h for h, _ in doses] == [42, 48, 54, 60, 66, 72] and stopped is None
    assert rescue.next_draw(DATA, 48) == 72 and rescue.next_draw(DATA, 36) == 42 and rescue.next_draw(DATA, 72) == 96


def test_the_example_s_delayed_clearance():
    # 150 at 24 h escalates: 150 mg every 3 h from 42 h; 12, 6 and 2.1 (36, 42, 48 h) keep it; 0.8 at 72 h steps down
    # to 15 mg every 3 h after 72 h; the next level is at 96 h. Infusion start Tue 1 Sep 10:00: 42 h = Thu 3 Sep 04:00.
    orders = hr1()
    r = orders.methotrexate
    assert [d.outcome for d in r.decisions] == ["escalate", "continue", "continue", "continue", "step down"]
    assert [h for h, k in r.doses if k == rescue.ESCALATED] == list(range(42, 73, 3))  # 11 doses
    assert [h for h, k in r.doses if k == rescue.AFTER] == list(range(75, 97, 3))  # 8 doses
    assert r.draws == (96,) and r.glucarpidase == ()
    folinic = [(a.day, [t.strftime("%H:%M") for t in a.times], a.dose.m_as("mg")) for a in orders.administrations if a.drug == "folinic_acid"]
    assert folinic == [
        (3, ["04:00", "07:00", "10:00", "13:00", "16:00", "19:00", "22:00"], 150),  # 42-60 h
        (4, ["01:00", "04:00", "07:00", "10:00"], 150),  # 63-72 h
        (4, ["13:00", "16:00", "19:00", "22:00"], 15),  # 75-84 h, after the 72-h level (0.8 < 1)
        (5, ["01:00", "04:00", "07:00", "10:00"], 15),  # 87-96 h, to the next level
    ]
    said = sentences(orders.findings)
    assert any(s.startswith("Folinic acid rescue ESCALATED") and "12–15 g/m² over 4 hours" in s for s in said)


def test_a_standard_rescue_is_the_order_s_own_dose():
    # 15 mg/m² × 0.3633 m² × 3/4 (6 months) = 4.087 mg, rounded half up to the 0.5 mg step: 4 mg
    orders = hr1(labs=(level(48, 0.8), level(72, 0.1, 2)))
    doses = {(a.day, a.times[0].strftime("%H:%M")): a.dose.m_as("mg") for a in orders.administrations if a.drug == "folinic_acid"}
    assert set(doses.values()) == {4.0}
    assert orders.methotrexate.stopped_at == 72


# -- hydration, interactions, glucarpidase on the sheet ----------------------------------------------

def test_hydration_worked_by_hand():
    # 1,000 mL/m² × 0.3294 m² = 329.4 mL over 6 h = 54.9 mL/h; 3,000 mL/m²/day × 0.3294 m² = 988.2 mL/day ÷ 24 = 41.175 mL/h
    water = rescue.hydration(DATA, Q(0.3294, "m**2"))
    assert water.before.m_as("mL") == pytest.approx(329.4)
    assert water.before_rate.m_as("mL/hour") == pytest.approx(54.9)
    assert water.during.m_as("mL/day") == pytest.approx(988.2)
    assert water.during_rate.m_as("mL/hour") == pytest.approx(41.175)


def test_an_interacting_medicine_is_named_with_its_class_and_source():
    orders = hr1(medications=("Septrin 2.5 mL PO twice daily Mon/Tue", "paracetamol"))
    found = [f for f in orders.findings if f.code == "interacting medicine"]
    assert len(found) == 1 and found[0].facts.name == "Septrin"
    (said,) = sentences(found)
    assert "Septrin 2.5 mL" in said and "co-trimoxazole" in said and "section 7.1" in said


@pytest.mark.parametrize("written,kind", [("esomeprazole 10 mg", "proton-pump"), ("IBUPROFEN", "NSAIDs"),
                                           ("piperacillin-tazobactam", "penicillins"), ("trimethoprim/sulfamethoxazole", "co-trimoxazole")])
def test_the_names_a_ward_writes(written, kind):
    (found,) = hr1(medications=(written,)).methotrexate.interactions
    assert kind in found.interaction.drug_class


def test_a_level_above_a_glucarpidase_criterion_says_so():
    orders = hr1(labs=(level(42, 10.1),))
    (said,) = [s for s in sentences(orders.findings) if s.startswith("GLUCARPIDASE")]
    assert "10.1 µmol/L at 42 hours" in said and "above 10 µmol/L" in said


# -- the JSON orders, the second check and the reissue ----------------------------------------------

def run_json(run, path, *extra):
    status, out, err = run("sheet", path, "--phase", "HR1", "--start", "2026-09-01", "--format", "json", "--today", "2026-09-01",
                           "--infusion-start", "10:00", *extra)
    return status, out, err


def test_the_example_passes_the_second_check_and_carries_its_results(run):
    status, out, err = run_json(run, EXAMPLE)
    assert status == 0, err
    mtx = json.loads(out)["methotrexate"]
    assert mtx["hydration"]["before_ml"] == 363.3  # 1,000 mL/m² × 0.3633 m²
    assert [d["results_used"][0]["entry"] for d in mtx["decisions"]] == [8, 9, 10, 11, 12]
    assert mtx["levels_to_draw"] == [{"hours_after_start": 96, "at": "2026-09-05T10:00"}]
    assert [i["matched"] for i in mtx["interactions"]] == ["co-trimoxazole", "omeprazole"]


def test_without_levels_the_administrations_are_the_golden_ones(run):
    # The only change to the HR1/HR2 JSON without levels is the new `methotrexate` object (and the other
    # helpers' additions): every administration is byte for byte the golden copy's.
    import golden

    checked = 0
    for name, argv in golden.cases():
        golden_copy = ROOT / "tests" / "golden" / f"{name}.json"
        if ("__HR1" not in name and "__HR2" not in name) or name.startswith("results-"):
            continue  # the examples with results have levels: their golden copies follow them
        now = json.loads(golden.orders(argv))
        before = json.loads(golden_copy.read_text())
        assert now["administrations"] == before["administrations"], name
        assert [d["hours_after_start"] for d in now["methotrexate"]["levels_to_draw"]] == [24, 36, 42, 48, 72]
        assert now["methotrexate"]["follows_levels"] is False
        checked += 1
    assert checked == 24  # 6 examples × HR1, HR2 × 2 infusion starts


def test_levels_to_draw_have_clock_times(run, patient_file):
    status, out, err = run("sheet", EXAMPLES / "standard-risk.toml", "--phase", "HR1", "--start", "2026-09-01", "--format", "json",
                           "--infusion-start", "14:30", "--override-pathway", "standard risk given HR1 for a test",
                           "--override-dates", "a test of the levels to draw", "--override-results", "a test of the levels to draw")
    assert status == 0, err
    draws = json.loads(out)["methotrexate"]["levels_to_draw"]
    # 14:30 on 1 Sep + 24, 36, 42, 48, 72 h
    assert [d["at"] for d in draws] == ["2026-09-02T14:30", "2026-09-03T02:30", "2026-09-03T08:30", "2026-09-03T14:30", "2026-09-04T14:30"]


def test_the_second_check_catches_a_slip_in_rescue_py(run, monkeypatch, tmp_path):
    text = EXAMPLE.read_text()
    path = tmp_path / "exactly-50.toml"
    path.write_text(text.replace('value = "150 umol/L"', 'value = "50 umol/L"'))
    assert run_json(run, path)[0] == 0
    monkeypatch.setattr(rescue, "umol", lambda level: level.value.m_as("umol/L") * 0.99)  # 50 read as 49.5: no escalation
    status, out, err = run_json(run, path)
    assert status != 0 and "second check" in err and "folinic_acid IV" in err


def test_a_new_level_reissues_the_sheet(run, tmp_path):
    text = EXAMPLE.read_text()
    path = tmp_path / "patient.toml"
    cut = text.index('[[labs]]\ntest = "methotrexate"\nhours_after_start = 72')
    path.write_text(text[:cut] + text[text.index("[genotype]"):])  # before the 72-h level came in
    out = tmp_path / "out"
    args = ("sheet", path, "--phase", "HR1", "--start", "2026-09-01", "--format", "html", "--documents", "orders", "--today",
            "2026-09-01", "--infusion-start", "10:00", "--out", out)
    assert run(*args)[0] == 0
    first = (out / "MRN-100007_HR1_2026-09-01_orders.html").read_text()
    assert "Draw the next level at 72 hours (Fri 04 Sep 10:00)" in first
    path.write_text(text)  # the 72-hour level: 0.8 µmol/L
    assert run(*args)[0] == 0
    second = (out / "MRN-100007_HR1_2026-09-01_v2_orders.html").read_text()
    assert "VERSION 2" in second and "the patient file changed" in second
    assert "Draw the next level at 96 hours (Sat 05 Sep 10:00)" in second
    assert run(*args)[0] != 0  # nothing changed: never overwritten


def test_the_section_prints_the_hydration_and_the_decisions(run, tmp_path):
    status, _, err = run("sheet", EXAMPLE, "--phase", "HR1", "--start", "2026-09-01", "--format", "html", "--documents", "orders",
                         "--today", "2026-09-01", "--infusion-start", "10:00", "--out", tmp_path)
    assert status == 0, err
    html = next(Path(tmp_path).glob("*_orders.html")).read_text()
    assert "363.3 mL over 6 h = 60.6 mL/h" in html  # 363.3 mL ÷ 6 h = 60.55 mL/h, printed to 0.1
    assert "1,089.9 mL/day = 45.4 mL/h" in html or "1089.9 mL/day = 45.4 mL/h" in html  # 3,000 × 0.3633 = 1,089.9; ÷ 24 = 45.41
    assert "Keep urine pH above 7" in html and "ESCALATE" in html and "Cohen" in html


def test_a_level_without_its_hour_is_printed_as_not_used():
    from datetime import datetime

    dated = LabResult("methotrexate", Q(3, "umol/L"), taken=datetime(2026, 9, 3, 10, 0), entry=7)
    rescue_ = hr1(labs=(dated,)).methotrexate
    assert rescue_.unplaced == (dated,) and not rescue_.follows_levels
