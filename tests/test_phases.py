"""Every phase after induction, worked by hand from docs/reference.md §4-§9.

The infant is examples/standard-risk.toml: 6.4 kg, 62 cm, so BSA by Mosteller
√(62 × 6.4 / 3600) = 0.33200 m²; born 2026-01-20, so 5 months until
2026-07-19, 6 months from 2026-07-20 (fraction 3/4), 12 months from
2027-01-20 (full dose). Phases a standard-risk infant's results do not reach
are ordered with --override-pathway, as a clinician would.
"""

import json

import pytest
from pypdf import PdfReader

import writing
from conftest import EXAMPLES
from dosing.cli import main
from dosing.requests import PHASES

INFANT = EXAMPLES / "standard-risk.toml"
OVERRIDE = ["--override-pathway", "hand-worked test of every phase",
            "--override-dates", "hand-worked test: the measurement at diagnosis for every phase"]


def orders(run, phase, start, *extra):
    status, out, err = run("sheet", INFANT, "--phase", phase, "--start", start, "--format", "json", *OVERRIDE, *extra)
    assert status == 0, err
    return json.loads(out)


def by_day(data, drug, route="IV", field="dose"):
    return {a["day"]: a[field] for a in data["administrations"] if a["drug"] == drug and a["route"] == route}


def test_consolidation(run):
    # From 2026-07-10: days 1-10 at 5 months (2/3), from day 11 (2026-07-20) 6 months (3/4).
    data = orders(run, "consolidation_1", "2026-07-10")
    # DAUNOrubicin day 1: 30 × 0.332 × 2/3 = 6.640 -> 6.6 mg
    assert by_day(data, "daunorubicin") == {1: 6.6}
    # methotrexate IM weekly: 30 × 0.332 × 2/3 = 6.640 -> 13.28 steps of 0.5 -> 6.5 mg (days 1, 8);
    # 30 × 0.332 × 3/4 = 7.470 -> 14.94 steps -> 7.5 mg (days 15-36)
    assert by_day(data, "methotrexate", "IM") == {1: 6.5, 8: 6.5, 15: 7.5, 22: 7.5, 29: 7.5, 36: 7.5}
    assert {a["weekly_on"] for a in data["administrations"] if a["route"] == "IM"} == {"Friday"}
    # mercaptopurine: 50 × 0.332 × 2/3 = 11.07 -> 11 mg (days 1-10); 50 × 0.332 × 3/4 = 12.45 -> 12.5 mg (11-42)
    mp = by_day(data, "mercaptopurine", "PO")
    assert len(mp) == 42 and mp[10] == 11 and mp[11] == 12.5 and mp[42] == 12.5
    # PEG-asparaginase: day 2 1,000 × 0.332 × 2/3 = 221.3 -> 220 units; days 16, 30 × 3/4 = 249.0 -> 250 units
    assert by_day(data, "pegaspargase") == {2: 220, 16: 250, 30: 250}
    # INTRATHECAL days 1 and 22, under 12 months: 6, 16, 2 mg
    assert by_day(data, "methotrexate", "INTRATHECAL") == {1: 6, 22: 6}


@pytest.mark.parametrize("phase", ["consolidation_2", "consolidation_3"])
def test_later_consolidations_repeat_the_first(run, phase):
    first, later = orders(run, "consolidation_1", "2026-07-10"), orders(run, phase, "2026-07-10")
    assert first["administrations"] == later["administrations"] and later["phase"] == phase


@pytest.mark.parametrize("phase", ["reinduction_1", "reinduction_2"])
def test_reinduction(run, phase):
    # From 2026-08-21 (7 months, 3/4 throughout).
    data = orders(run, phase, "2026-08-21")
    dex = by_day(data, "dexamethasone", "PO")
    # days 1-10: 6 × 0.332 × 3/4 ÷ 3 = 0.4980 -> 0.5 mg, × 3 = 1.5 mg a day
    # days 11-14 (half): 3 × 0.332 × 3/4 ÷ 3 = 0.2490 -> 4.98 steps of 0.05 -> 0.25 mg, × 3 = 0.75 mg a day
    assert [dex[d] for d in (1, 10, 11, 14)] == [1.5, 1.5, 0.75, 0.75] and len(dex) == 14
    # vinCRIStine days 1 and 8: 1.5 × 0.332 × 3/4 = 0.3735 -> 0.37 mg
    assert by_day(data, "vincristine") == {1: 0.37, 8: 0.37}


def test_hr1_block_with_its_clock(run):
    # From 2026-07-10 (5 months, 2/3 throughout), methotrexate infusion from 10:00.
    data = orders(run, "HR1", "2026-07-10", "--infusion-start", "10:00")
    # dexamethasone 20 × 0.332 × 2/3 ÷ 3 = 1.4755 -> 29.5 steps of 0.05 -> 1.5 mg, × 3 = 4.5 mg a day
    assert by_day(data, "dexamethasone", "PO") == {d: 4.5 for d in range(1, 6)}
    # high-dose methotrexate 5,000 × 0.332 × 2/3 = 1,106.66 -> 1,107 mg;
    # 10 % = 110.7 -> 111 mg over 30 minutes, the rest 1,107 - 111 = 996 mg over 23.5 hours
    mtx = [a for a in data["administrations"] if a["drug"] == "methotrexate" and a["route"] == "IV"]
    assert len(mtx) == 1 and mtx[0]["dose"] == 1107 and mtx[0]["times"] == ["10:00"]
    assert [(p["fraction"], p["dose"], p["over"]) for p in mtx[0]["parts"]] == [("1/10", 111, "30 minutes"), ("9/10", 996, "23.5 hours")]
    # folinic acid 15 × 0.332 × 2/3 = 3.32 -> 6.64 steps of 0.5 -> 3.5 mg at 10:00 + 42, 48, 54 h:
    # day 3 at 04:00, 10:00, 16:00
    assert by_day(data, "folinic_acid") == {3: 10.5}
    assert by_day(data, "folinic_acid", field="times") == {3: ["04:00", "10:00", "16:00"]}
    # cyclophosphamide 200 × 0.332 × 2/3 = 44.27 -> 44 mg every 12 h × 5 from day 2 08:00
    assert by_day(data, "cyclophosphamide", field="times") == {2: ["08:00", "20:00"], 3: ["08:00", "20:00"], 4: ["08:00"]}
    assert by_day(data, "cyclophosphamide") == {2: 88, 3: 88, 4: 44}
    # mesna 70 × 0.332 × 2/3 = 15.49 -> 15 mg at 0, 4, 8 h after each cyclophosphamide: 15 doses
    assert by_day(data, "mesna", field="times_per_day") == {2: 4, 3: 6, 4: 5}
    assert by_day(data, "mesna") == {2: 60, 3: 90, 4: 75}
    # high-dose cytarabine 2,000 × 0.332 × 2/3 = 442.66 -> 443 mg at 08:00 and 20:00 on day 5
    assert by_day(data, "cytarabine") == {5: 886}
    # vinCRIStine days 1, 6: 1.5 × 0.332 × 2/3 = 0.332 -> 0.33 mg; PEG-asparaginase day 6: 220 units
    assert by_day(data, "vincristine") == {1: 0.33, 6: 0.33} and by_day(data, "pegaspargase") == {6: 220}
    assert by_day(data, "methotrexate", "INTRATHECAL") == {1: 6}


def test_rescue_moves_with_a_late_infusion(run):
    # Infusion from 22:00: 42 h -> day 3 16:00, 48 h -> day 3 22:00, 54 h -> day 4 04:00.
    data = orders(run, "HR1", "2026-07-10", "--infusion-start", "22:00")
    assert by_day(data, "folinic_acid", field="times") == {3: ["16:00", "22:00"], 4: ["04:00"]}
    assert data["infusion_start"] == "22:00"


def test_no_infusion_start_warns(run):
    data = orders(run, "HR2", "2026-07-10")
    assert data["infusion_start"] == "08:00" and any("infusion start time was not given" in w for w in data["warnings"])


def test_hr2_and_hr3(run):
    hr2 = orders(run, "HR2", "2026-07-10", "--infusion-start", "08:00")
    # vindesine 3 × 0.332 × 2/3 = 0.664 -> 0.66 mg on days 1 and 6; ifosfamide 800 × 0.332 × 2/3 = 177.07 -> 177 mg
    assert by_day(hr2, "vindesine") == {1: 0.66, 6: 0.66}
    assert by_day(hr2, "ifosfamide") == {2: 354, 3: 354, 4: 177}
    # DAUNOrubicin day 5: 30 × 0.332 × 2/3 = 6.64 -> 6.6 mg over 24 hours
    assert by_day(hr2, "daunorubicin") == {5: 6.6}
    hr3 = orders(run, "HR3", "2026-07-10")
    # cytarabine 2,000 × 0.332 × 2/3 = 442.66 -> 443 mg × 4 doses over days 1-2; etoposide 100 × 0.332 × 2/3 = 22.13 -> 22 mg × 5
    assert by_day(hr3, "cytarabine") == {1: 886, 2: 886}
    assert by_day(hr3, "etoposide") == {3: 44, 4: 44, 5: 22}
    assert by_day(hr3, "methotrexate", "INTRATHECAL") == {5: 6}


def test_protocol_ii(run):
    # From 2026-09-01 (7 months, 3/4 throughout the 49 days).
    data = orders(run, "protocol_II", "2026-09-01")
    dex = by_day(data, "dexamethasone", "PO")
    # 10 × 0.332 × 3/4 ÷ 3 = 0.8300 -> 16.6 steps -> 0.85 mg (2.55 a day), days 1-21; then halving every 3 days:
    # 5: 0.4150 -> 0.4 mg (1.2); 2.5: 0.2075 -> 0.2 mg (0.6); 1.25: 0.1037 -> 0.1 mg (0.3)
    assert [dex[d] for d in (1, 21, 22, 24, 25, 27, 28, 30)] == [2.55, 2.55, 1.2, 1.2, 0.6, 0.6, 0.3, 0.3] and 31 not in dex
    # DOXOrubicin 30 × 0.332 × 3/4 = 7.470 -> 7.5 mg; vinCRIStine 1.5 × 0.332 × 3/4 = 0.3735 -> 0.37 mg
    assert by_day(data, "doxorubicin") == {8: 7.5, 15: 7.5, 22: 7.5, 29: 7.5}
    assert by_day(data, "vincristine") == {8: 0.37, 15: 0.37, 22: 0.37, 29: 0.37}
    # cyclophosphamide day 36: 1,000 × 0.332 × 3/4 = 249.0 -> 249 mg; mesna 400 × 0.332 × 3/4 = 99.6 -> 100 mg × 3
    assert by_day(data, "cyclophosphamide") == {36: 249} and by_day(data, "mesna") == {36: 300}
    # thioguanine 60 × 0.332 × 3/4 = 14.94 -> 15 mg, days 36-49; cytarabine 75 × 0.332 × 3/4 = 18.67 -> 19 mg
    assert set(by_day(data, "thioguanine", "PO")) == set(range(36, 50)) and by_day(data, "thioguanine", "PO")[36] == 15
    assert by_day(data, "cytarabine") == {d: 19 for d in (38, 39, 40, 41, 45, 46, 47, 48)}
    # methotrexate alone INTRATHECAL on days 38 and 45
    assert by_day(data, "methotrexate", "INTRATHECAL") == {38: 6, 45: 6}
    assert by_day(data, "cytarabine", "INTRATHECAL") == {}


def test_blinatumomab_daily_doses(run):
    data = orders(run, "blinatumomab", "2026-07-10")
    # 15 mcg/m²/day × 0.332 = 4.980 mcg a day, no infant fraction, every day for 28 days
    blina = by_day(data, "blinatumomab")
    assert blina == {d: 4.98 for d in range(1, 29)}
    assert {a["unit"] for a in data["administrations"] if a["drug"] == "blinatumomab"} == {"mcg"}
    assert {a["factor"] for a in data["administrations"]} == {"1"}
    # premedication 5 mg/m² × 0.332 = 1.660 -> 33.2 steps of 0.05 -> 1.65 mg IV on day 1, not reduced
    assert by_day(data, "dexamethasone") == {1: 1.65}


def test_maintenance_window_weekday_and_age(run):
    # From Tuesday 2026-12-01 (10 months, 3/4); 12 months on 2027-01-20 = day 51. Default window 8 weeks.
    data = orders(run, "maintenance", "2026-12-01")
    assert data["window"] == {"from": "2026-12-01", "to": "2027-01-25"}
    mp = by_day(data, "mercaptopurine", "PO")
    # 50 × 0.332 × 3/4 = 12.45 -> 12.5 mg; from day 51 full dose 50 × 0.332 = 16.6 -> 33.2 steps -> 16.5 mg
    assert len(mp) == 56 and mp[50] == 12.5 and mp[51] == 16.5
    # methotrexate 20 × 0.332 × 3/4 = 4.98 -> 5 mg once weekly on Tuesday, days 1, 8, ... 50
    mtx = by_day(data, "methotrexate", "PO")
    assert mtx == {d: 5 for d in range(1, 51, 7)}
    assert {a["weekly_on"] for a in data["administrations"] if a["route"] == "PO" and a["drug"] == "methotrexate"} == {"Tuesday"}
    assert by_day(data, "methotrexate", "INTRATHECAL") == {1: 6}
    # Twelve weeks reach the second lumbar puncture on day 57 (12 months: 8 mg) and full-dose methotrexate 20 × 0.332 = 6.64 -> 6.5 mg
    data = orders(run, "maintenance", "2026-12-01", "--weeks", "12")
    assert by_day(data, "methotrexate", "INTRATHECAL") == {1: 6, 57: 8}
    assert by_day(data, "methotrexate", "PO")[57] == 6.5


def test_maintenance_ends_104_weeks_after_diagnosis(run):
    # Diagnosed 2026-05-28: 104 weeks = 728 days -> 2028-05-25; the last day of maintenance is 2028-05-24.
    data = orders(run, "maintenance", "2026-12-01", "--from", "2028-05-01", "--weeks", "8")
    assert max(a["date"] for a in data["administrations"]) == "2028-05-24"
    status, _, err = run("sheet", INFANT, "--phase", "maintenance", "--start", "2028-06-01", "--format", "json", *OVERRIDE)
    assert status == 3 and "104 weeks after diagnosis" in err


def test_weekly_order_cannot_become_daily(tmp_path, run):
    import shutil
    from conftest import ROOT
    copy = tmp_path / "regimens"
    shutil.copytree(ROOT / "regimens", copy)
    path = copy / "all-baby-2021" / "maintenance.toml"
    path.write_text(path.read_text().replace('days = { value = "every 7 days"', 'days = { value = "every 1 day"', 1))
    status, _, err = run("sheet", INFANT, "--phase", "maintenance", "--start", "2026-12-01", "--format", "json", "--regimens", copy, *OVERRIDE)
    assert status == 3 and "weekly order must fall every 7 days" in err


@pytest.fixture(scope="module")
def every_phase(tmp_path_factory):
    out = tmp_path_factory.mktemp("phases")
    for phase in PHASES:
        assert main(["sheet", str(INFANT), "--phase", phase, "--start", "2026-07-10", "--out", str(out), *OVERRIDE]) == 0, phase
    return out


@pytest.mark.parametrize("phase", PHASES)
def test_every_phase_prints(every_phase, phase):
    pdfs = sorted(every_phase.glob(f"MRN-100001_{phase}_2026-07-10_*.pdf"))
    # Re-induction and blinatumomab have no lumbar puncture; every other phase has one.
    spinal = phase not in ("reinduction_1", "reinduction_2", "blinatumomab")
    expected = {"orders.pdf", "calendar.pdf", "administration-record.pdf"} | ({"intrathecal.pdf"} if spinal else set())
    if phase == "blinatumomab":  # the nurse's bag schedule and the pharmacy worksheet
        expected |= {"infusion.pdf", "preparation.pdf"}
    assert {p.name.rsplit("_", 1)[1] for p in pdfs} == expected
    for pdf in pdfs:
        pages = [" ".join(p.extract_text().split()) for p in PdfReader(pdf).pages]
        assert all("Petrov, Mikhail" in p and "MRN-100001" in p for p in pages)
        kind = pdf.name.rsplit("_", 1)[1]
        for page in pages:
            if kind in ("orders.pdf", "infusion.pdf", "preparation.pdf"):
                assert "INTRATHECAL" not in page.upper()
            if kind == "intrathecal.pdf":
                assert "INTRATHECAL" in page
            # The calendar is a schedule, not an order: it shows every administration, INTRATHECAL boxed apart.
            if kind != "calendar.pdf":
                assert writing.vinca_and_intrathecal_apart(page)
        assert writing.problems(" ".join(pages)) == []
        text = " ".join(pages)
        # The minibag label with every vinca order
        for vinca in ("vinCRIStine", "vindesine"):
            if f"{vinca} – intravenous" in text:
                assert f"{vinca}: {writing.MINIBAG_LABEL}" in text


def test_sheet_wording_for_blocks_and_maintenance(every_phase):
    def text(phase):
        return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(every_phase / f"MRN-100001_{phase}_2026-07-10_orders.pdf").pages)
    hr1 = text("HR1")
    assert "1,107 mg IV at 08:00: 10 % (111 mg) over 30 minutes, then 90 % (996 mg) over 23.5 hours" in hr1
    assert "3.5 mg IV at 02:00, 08:00, 14:00" in hr1  # infusion at 08:00 assumed: +42, 48, 54 h
    assert "44 mg IV at 08:00, 20:00 (88 mg a day)" in hr1
    maintenance = text("maintenance")
    assert "once weekly on Friday" in maintenance and "Titrated to blood counts" in maintenance
    blina = text("blinatumomab")
    assert "4.98 mcg a day IV, continuous infusion" in blina and "never flush the line" in blina
