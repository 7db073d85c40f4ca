"""Blinatumomab: daily dose, bags, the 22 kg rule, preparation and interruptions.

Worked by hand from docs/reference.md §9 and the product
settings in regimens/products/blinatumomab.toml (Blincyto PI: 270 mL saline +
5.5 mL IV Solution Stabilizer + drug at 12.5 mcg/mL; 10 mL/h for 24 hours,
5 mL/h for 48, 3.3 mL/h for 72, 2.5 mL/h for 96, 0.6 mL/h for 168). The drug
volume in a bag is v = D × (S + I) ÷ (V × C − D), rounded half up to 0.01 mL.
"""

import json
import re
import shutil

import pytest
from pypdf import PdfReader

from conftest import EXAMPLES, ROOT

OVERRIDE = ["--override-pathway", "blinatumomab test for this infant",
            "--override-dates", "hand-worked test: the measurement at diagnosis for every course"]
SMALL = EXAMPLES / "kmt2a-rearranged.toml"  # 4.8 kg, 56 cm


def bags_json(run, patient, *extra, start="2026-07-06"):
    status, out, err = run("sheet", patient, "--phase", "blinatumomab", "--start", start, "--format", "json", *OVERRIDE, *extra)
    assert status == 0, err
    return json.loads(out)


# A child of 22 kg or more is past the WHO standard's plausible range (z +5) for any infant; on this protocol
# only a child diagnosed late in the first year and near the end of treatment can weigh it: born 2023-08-01,
# diagnosed 2024-07-25 (359 days old), nearly 3 years old (1,065 days) at the measurement of 2026-07-01.
OLDER = {"birth_date": "2023-08-01", "diagnosis_date": "2024-07-25"}


@pytest.fixture
def larger(patient_file):
    # 22.5 kg, 95 cm: BSA √(95 × 22.5 / 3600) = 0.770552 -> 0.7706 m²
    return patient_file("larger.toml", patient=OLDER, measurements=[{"date": "2026-07-01", "weight": "22.5 kg", "length": "95 cm"}])


def test_small_infant_24_hour_bags(run):
    # BSA √(56 × 4.8 / 3600) = 0.27325 m²; 15 × 0.27325 = 4.0988 -> 4.10 mcg a day, no infant fraction.
    data = bags_json(run, SMALL, "--infusion-start", "10:00")
    bags = data["bags"]
    assert len(bags) == 28 and sum(b["hours"] for b in bags) == 672
    first = bags[0]
    assert (first["start"], first["hours"], first["dose_mcg"], first["rate_ml_per_h"], first["volume_ml"]) == ("2026-07-06T10:00", 24, 4.1, 10, 240)
    assert bags[-1]["start"] == "2026-08-02T10:00"
    # v = 4.1 × (270 + 5.5) ÷ (240 × 12.5 − 4.1) = 1,129.55 ÷ 2,995.9 = 0.377 -> 0.38 mL; bag 275.88 mL, overfill 35.88 mL;
    # the 240 mL infused carries 0.38 × 12.5 × 240 ÷ 275.88 = 4.132 mcg.
    prep = first["preparation"]
    assert (prep["reconstituted_ml"], prep["diluent_ml"], prep["stabiliser_ml"], prep["bag_volume_ml"], prep["overfill_ml"], prep["vials"]) == (0.38, 270, 5.5, 275.88, 35.88, 1)
    assert prep["delivers_mcg"] == pytest.approx(4.132, abs=1e-3)
    # premedication 5 mg/m² × 0.27325 = 1.366 -> 27.3 steps of 0.05 -> 1.35 mg IV on day 1
    (premed,) = [a for a in data["administrations"] if a["drug"] == "dexamethasone"]
    assert (premed["day"], premed["route"], premed["dose"], premed["factor"]) == (1, "IV", 1.35, "1")


def test_48_hour_bags(run):
    # 4.10 × 2 = 8.2 mcg per bag over 240 mL at 5 mL/h; v = 8.2 × 275.5 ÷ (3,000 − 8.2) = 0.755 -> 0.76 mL
    bags = bags_json(run, SMALL, "--bag-hours", "48")["bags"]
    assert len(bags) == 14 and {(b["hours"], b["dose_mcg"], b["rate_ml_per_h"], b["volume_ml"]) for b in bags} == {(48, 8.2, 5, 240)}
    assert bags[0]["preparation"]["reconstituted_ml"] == 0.76


def test_72_hour_bags_end_with_a_shorter_one(run):
    # 672 = 9 × 72 + 24: nine 72-hour bags at 3.3 mL/h (237.6 mL, 4.10 × 3 = 12.3 mcg), then one 24-hour bag
    bags = bags_json(run, SMALL, "--bag-hours", "72", "--infusion-start", "09:00")["bags"]
    assert [b["hours"] for b in bags] == [72] * 9 + [24]
    assert (bags[0]["dose_mcg"], bags[0]["volume_ml"], bags[0]["rate_ml_per_h"]) == (12.3, 237.6, 3.3)
    assert (bags[-1]["start"], bags[-1]["dose_mcg"], bags[-1]["rate_ml_per_h"]) == ("2026-08-02T09:00", 4.1, 10)


def test_larger_child_96_and_168_hour_bags(run, larger):
    # 15 × 0.7706 = 11.559 -> 11.56 mcg a day
    data = bags_json(run, larger, "--bag-hours", "96")
    bags = data["bags"]
    # 96 hours: 11.56 × 4 = 46.24 mcg over 240 mL; v = 46.24 × 275.5 ÷ (3,000 − 46.24) = 4.313 -> 4.31 mL, 2 vials of 2.8 mL
    assert len(bags) == 7 and bags[0]["dose_mcg"] == 46.24 and bags[0]["preparation"]["reconstituted_ml"] == 4.31
    assert bags[0]["preparation"]["vials"] == 2
    # 22 kg and over may have the 7-day bag: 11.56 × 7 = 80.92 mcg at 0.6 mL/h, 100.8 mL
    bags = bags_json(run, larger, "--bag-hours", "168")["bags"]
    assert [(b["hours"], b["dose_mcg"], b["volume_ml"], b["rate_ml_per_h"], b["preservative"]) for b in bags] == [(168, 80.92, 100.8, 0.6, True)] * 4


@pytest.mark.parametrize("weight, refused", [("21.9 kg", True), ("22 kg", False)])
def test_22_kg_rule(run, patient_file, weight, refused):
    path = patient_file(patient=OLDER, measurements=[{"date": "2026-07-01", "weight": weight, "length": "95 cm"}])
    status, out, err = run("sheet", path, "--phase", "blinatumomab", "--start", "2026-07-06", "--format", "json", "--bag-hours", "168", *OVERRIDE)
    if refused:
        assert status == 3 and "22 kg" in err and "preservative-free" in err and out == ""
    else:
        assert status == 0


def test_cap_of_28_mcg_a_day(run, patient_file, tmp_path):
    # No infant can reach 28 mcg a day at 15 mcg/m² (it needs 1.87 m²); a centre dosing 40 mcg/m²/day
    # for a 22.5 kg, 95 cm child (BSA 0.7706 m², above) asks for 40 × 0.7706 = 30.824 mcg a day: capped at 28.
    copy = tmp_path / "regimens"
    shutil.copytree(ROOT / "regimens", copy)
    path = copy / "all-baby-2021" / "blinatumomab.toml"
    path.write_text(path.read_text().replace('value = "15 mcg/m2/day"', 'value = "40 mcg/m2/day"'))
    child = patient_file(patient=OLDER, measurements=[{"date": "2026-07-01", "weight": "22.5 kg", "length": "95 cm"}])
    data = bags_json(run, child, "--regimens", copy)
    blina = [a for a in data["administrations"] if a["drug"] == "blinatumomab"]
    assert {(a["dose"], a["capped"], a["calculated"]) for a in blina} == {(28, True, 28)}
    assert data["bags"][0]["dose_mcg"] == 28


def resume(run, *times, bag_hours="48"):
    status, out, err = run("blinatumomab-resume", SMALL, "--start", "2026-07-06", "--infusion-start", "10:00",
                           "--stopped", times[0], "--restart", times[1], "--bag-hours", bag_hours, "--format", "json", *OVERRIDE)
    assert status == 0, err
    return json.loads(out)


def test_resume_after_a_short_interruption(run):
    # Started 2026-07-06 10:00, stopped 2026-07-10 16:00: 102 hours given; restarted 2026-07-11 08:00 after 16 hours.
    # 672 − 102 = 570 hours remain: eleven 48-hour bags (528 hours) and one of 42 hours (4.10 × 42 ÷ 24 = 7.175 mcg).
    data = resume(run, "2026-07-10 16:00", "2026-07-11 08:00")
    assert (data["infused_hours"], data["interruption_hours"], data["remaining_hours"], data["new_course"]) == (102, 16, 570, False)
    assert [b["hours"] for b in data["bags"]] == [48] * 11 + [42]
    assert data["bags"][0]["start"] == "2026-07-11T08:00" and data["bags"][-1]["dose_mcg"] == 7.175
    # 16 hours is 4 or more: dexamethasone again, 1.35 mg IV
    assert data["premedication"] == {"drug": "dexamethasone", "route": "IV", "dose": 1.35, "unit": "mg"}


def test_the_schedule_says_how_long_the_bags_left_run(run, tmp_path):
    # A full course: 672 hours = 28 × 24, "28 days". Resumed after 102 hours given (and 16 off): 672 − 102 = 570 hours
    # = 23 × 24 + 18, "23 days and 18 hours" (the schedule said "(28 days)" whatever was left).
    said = {}
    for name, command, extra in (("full", "sheet", ["--phase", "blinatumomab", "--documents", "infusion"]),
                                 ("resumed", "blinatumomab-resume", ["--stopped", "2026-07-10 16:00", "--restart", "2026-07-11 08:00"])):
        out = tmp_path / name
        status, _, err = run(command, SMALL, "--start", "2026-07-06", "--infusion-start", "10:00", "--bag-hours", "48",
                             *extra, "--format", "html", "--out", out, *OVERRIDE)
        assert status == 0, err
        (page,) = out.glob("*_infusion.html")
        said[name] = re.search(r"continuously, for ([^<]*?) in ", page.read_text(encoding="utf-8")).group(1)
    assert said == {"full": "672 hours (28 days)", "resumed": "570 hours (23 days and 18 hours)"}


@pytest.mark.parametrize("restart, premedication", [("2026-07-10 19:59", False), ("2026-07-10 20:00", True)])
def test_premedication_from_four_hours(run, restart, premedication):
    data = resume(run, "2026-07-10 16:00", restart)
    assert (data["premedication"] is not None) == premedication


@pytest.mark.parametrize("restart, new_course, remaining", [
    ("2026-07-17 16:00", False, 570),  # exactly 7 days: continue to 28 infusion days
    ("2026-07-17 16:01", True, 672),  # longer than 7 days: a new course of 672 hours
])
def test_seven_day_rule(run, restart, new_course, remaining):
    data = resume(run, "2026-07-10 16:00", restart)
    assert (data["new_course"], data["remaining_hours"], sum(b["hours"] for b in data["bags"])) == (new_course, remaining, remaining)


def test_resume_refuses_times_out_of_order(run):
    status, _, err = run("blinatumomab-resume", SMALL, "--start", "2026-07-06", "--stopped", "2026-07-05 10:00",
                         "--restart", "2026-07-06 10:00", "--format", "json", *OVERRIDE)
    assert status == 3 and "in order" in err


def test_nurse_and_pharmacy_documents(run, tmp_path):
    status, out, err = run("sheet", SMALL, "--phase", "blinatumomab", "--start", "2026-07-06", "--infusion-start", "10:00",
                           "--out", tmp_path, "--documents", "orders,infusion,preparation", *OVERRIDE)
    assert status == 0, err
    names = sorted(p.name.rsplit("_", 1)[1] for p in tmp_path.glob("*.pdf"))
    assert names == ["infusion.pdf", "orders.pdf", "preparation.pdf"]

    def text(kind):
        return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(next(tmp_path.glob(f"*_{kind}.pdf"))).pages)

    nurse = text("infusion")
    assert "NEVER FLUSH THE BLINATUMOMAB LINE" in nurse and "0.2 micron" in nurse
    assert "dexamethasone 1.35 mg IV" in nurse and "interruption of 4 hours or more" in nurse
    assert "Mon 6 Jul 2026 10:00" in nurse and "10 mL/h" in nurse and "Nurse 2" in nurse
    assert nurse.count("4.1 mcg") >= 28
    pharmacy = text("preparation")
    for expected in ("3 mL preservative-free sterile water", "12.5 mcg/mL", "IV Solution Stabilizer", "270 mL", "5.5 mL",
                     "0.38 mL", "overfill", "US PI section 2.4", "Prepared by"):
        assert expected in pharmacy, expected

    def page_texts(kind):
        return [" ".join(p.extract_text().split()) for p in PdfReader(next(tmp_path.glob(f"*_{kind}.pdf"))).pages]

    # The worksheet: each of the 28 bags whole on one page, from its heading through its table
    # (header and values: 0.38 mL, worked out above) and working to its signature line.
    seen = []
    for page in page_texts("preparation"):
        for block in re.split(r"(?=Bag \d+: 24 hours from )", page)[1:]:
            number = int(re.match(r"Bag (\d+):", block).group(1))
            for part in ("Delivers over its hours", "Reconstituted blinatumomab", "0.38 mL", "Drug volume:", "Prepared by"):
                assert part in block, (number, part)
            seen.append(number)
    assert seen == list(range(1, 29))
    # The nurse's schedule: each bag is one row, never split, and every page with rows has the header above them.
    header = "Bag Goes up Runs Comes down Dose in the bag's hours Pump rate VTBI Time hung Nurse 1 Nurse 2 Line not flushed"
    row = r"(\d+) \w{3} \d{1,2} \w{3} 2026 10:00 24 h \w{3} \d{1,2} \w{3} 2026 10:00 4\.1 mcg 10 mL/h 240 mL"
    seen = []
    for page in page_texts("infusion"):
        rows = list(re.finditer(row, page))
        if rows:
            assert header in page[:rows[0].start()]
        seen += [int(r.group(1)) for r in rows]
    assert seen == list(range(1, 29))


def test_no_text_runs_out_of_its_box_on_the_bag_documents(run, tmp_path):
    # Laid out by WeasyPrint: no header runs into the next column ("3. Reconstituted blinatumomab"
    # once ran into "Bag total"), no word is cut in two.
    import layout

    status, _, err = run("sheet", SMALL, "--phase", "blinatumomab", "--start", "2026-07-06", "--infusion-start", "10:00",
                         "--format", "html", "--out", tmp_path, "--documents", "infusion,preparation", *OVERRIDE)
    assert status == 0, err
    made = sorted(tmp_path.glob("*.html"))
    assert len(made) == 2
    for path in made:
        assert layout.faults(path.read_text(encoding="utf-8")) == [], path.name
