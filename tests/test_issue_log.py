"""The issue log: what is recorded, new versions, nothing overwritten, and verify."""

import re
import shutil
import sqlite3

from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from conftest import EXAMPLES, ROOT
from dosing.issue_log import dose_changes, regimen_hash, sha256

PATIENT = EXAMPLES / "standard-risk.toml"
ARGS = ["--phase", "induction", "--start", "2026-06-01", "--documents", "orders,intrathecal"]


def issue(run, out, patient=PATIENT, *extra):
    return run("sheet", patient, *ARGS, "--out", out, *extra)


def text(path):
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages)


def test_every_issue_is_recorded(run, tmp_path):
    status, _, err = issue(run, tmp_path)
    assert status == 0, err
    db = sqlite3.connect(tmp_path / "issue-log.sqlite")
    (row,) = db.execute("SELECT patient_id, phase, start, version, tool_version, inputs_sha256, inputs, regimen_sha256 FROM issues").fetchall()
    assert row[:5] == ("MRN-100001", "induction", "2026-06-01", 1, "0.1.0")
    assert row[6] == PATIENT.read_bytes() and row[5] == sha256(PATIENT.read_bytes())
    assert row[7] == regimen_hash(ROOT / "regimens")
    files = dict(db.execute("SELECT name, sha256 FROM files").fetchall())
    assert files == {p.name: sha256(p.read_bytes()) for p in tmp_path.glob("*.pdf")} and len(files) == 2


def test_same_sheet_again_is_refused_and_nothing_is_touched(run, tmp_path):
    issue(run, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.pdf")}
    status, _, err = issue(run, tmp_path)
    assert status == 3 and "already issued: version 1" in err and "--reissue" in err
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.pdf")} == before


def test_changed_inputs_make_a_new_version_that_says_what_changed(run, tmp_path):
    issue(run, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.pdf")}
    heavier = tmp_path / "heavier.toml"
    heavier.write_text(PATIENT.read_text().replace('"6.4 kg"', '"6.8 kg"'))
    status, out, err = issue(run, tmp_path, heavier)
    assert status == 0, err
    assert "MRN-100001_induction_2026-06-01_v2_orders.pdf" in out
    # The first version is untouched.
    assert all((tmp_path / name).read_bytes() == content for name, content in before.items())
    sheet = text(tmp_path / "MRN-100001_induction_2026-06-01_v2_orders.pdf")
    assert "VERSION 2 – replaces version 1" in sheet and "weight 6.4 kg -> 6.8 kg" in sheet
    # Every changed dose, as ordered, with the names the sheet prints:
    assert "doses changed: DAUNOrubicin" in sheet and all(change in sheet for change in WEIGHT_CHANGES) and "; ..." not in sheet
    # docs/safety.md: weight changed 5 % or more since the last sheet (6.4 -> 6.8 kg is +6 %)
    assert "Weight changed by +6% since the last sheet issued for this patient" in sheet


# standard-risk.toml: born 2026-01-20, 62 cm; induction from 2026-06-01 (4 months; day 36 is 2026-07-06, 5 months):
# 2/3 of the BSA dose throughout. BSA (Mosteller) at 6.4 kg √(62 × 6.4 / 3600) = 0.33200 m², at 6.8 kg
# √(62 × 6.8 / 3600) = 0.34222 m².
#   DAUNOrubicin 30 mg/m² days 8, 22: 30 × 0.33200 × 2/3 = 6.640 -> 6.6 mg; 30 × 0.34222 × 2/3 = 6.844 -> 6.8 mg
#   dexamethasone PO 6 mg/m²/day in 3 doses, days 1-28: each 2 × 0.33200 × 2/3 = 0.4427 -> 0.45 mg;
#     2 × 0.34222 × 2/3 = 0.4563 -> 0.45 mg: unchanged, so not listed
#   taper days 29-31, 3 mg/m²/day in 3: each 1 × 0.33200 × 2/3 = 0.2213 -> 0.2 mg; 0.34222 × 2/3 = 0.2281 -> 0.25 mg
#     (per dose as ordered: 0.2 mg × 3, not the day's 0.6 mg)
#   taper days 32-34 (0.5 mg/m² each): 0.1107 and 0.1141 -> 0.1 mg both; days 35-36 (0.25): 0.0553 and 0.0570 -> 0.05
#   PEG-asparaginase 1000 units/m² day 5: 1000 × 0.33200 × 2/3 = 221.3 -> 220 units; 228.1 -> 230 units (5-unit step)
#   vinCRIStine 1.5 mg/m² days 8, 15, 22, 29, 36: 1.5 × 0.33200 × 2/3 = 0.3320 -> 0.33 mg; 0.3422 -> 0.34 mg
#   INTRATHECAL doses are by age, so unchanged.
WEIGHT_CHANGES = ("DAUNOrubicin IV days 8, 22 6.6 mg -> 6.8 mg", "dexamethasone PO days 29 to 31 0.2 mg × 3 a day -> 0.25 mg × 3 a day",
                  "PEG-asparaginase IV day 5 220 units -> 230 units", "vinCRIStine IV days 8, 15, 22, 29, 36 0.33 mg -> 0.34 mg")


def changed_doses(line: str) -> list[str]:
    """The dose changes a 'what changed' line lists, one each (they never hold '; ' themselves)."""
    return line.split("doses changed: ", 1)[1].split("; ")


def says_every_weight_change(line: str) -> bool:
    # Every dose worked out above is there, in the order the sheet lists drugs; where the taper's smaller
    # doses (days 32 to 36) land depends on their measuring step, so they are not pinned here.
    listed = changed_doses(line)
    return all(change in listed for change in WEIGHT_CHANGES) and [c for c in listed if c in WEIGHT_CHANGES] == list(WEIGHT_CHANGES)


def heavier(tmp_path):
    path = tmp_path / "heavier.toml"
    path.write_text(PATIENT.read_text().replace('"6.4 kg"', '"6.8 kg"'))
    return path


def test_verify_a_sheet_a_later_version_replaced(run, tmp_path):
    # The fault run: a weight change issued version 2; verify on version 1 must not say all is well.
    out = tmp_path / "out"
    issue(run, out)
    assert issue(run, out, heavier(tmp_path))[0] == 0
    status, said, _ = run("verify", out / "MRN-100001_induction_2026-06-01_orders.pdf")
    assert status == 3
    lines = said.splitlines()
    assert lines[1].startswith("REPLACED by version 2, issued 20")
    assert ": the patient file changed; weight 6.4 kg -> 6.8 kg; BSA 0.332 m² -> 0.3422 m²; doses changed: " in lines[1]
    assert says_every_weight_change(lines[1])
    assert lines[2] == "This sheet is not the current one: use version 2 and destroy this one."
    # Its own doses still follow from its own recorded inputs: said, but not "all is well".
    assert "every dose still matches (62 administrations recomputed from the recorded patient file), but this version is no longer current" in said
    # Version 2 is the current sheet: verified, exit 0, nothing about a replacement.
    status, said, _ = run("verify", out / "MRN-100001_induction_2026-06-01_v2_intrathecal.pdf")
    assert status == 0 and "REPLACED" not in said and "every dose still matches" in said


def test_verify_names_each_later_version_and_why(run, tmp_path):
    # Version 2: re-issued with nothing changed (its reason is what changed); version 3: an option changed.
    issue(run, tmp_path, PATIENT, "--format", "html")
    issue(run, tmp_path, PATIENT, "--format", "html", "--reissue", "first printout damaged on the ward")
    assert issue(run, tmp_path, PATIENT, "--format", "html", "--infusion-start", "09:30")[0] == 0
    status, said, _ = run("verify", tmp_path / "MRN-100001_induction_2026-06-01_orders.html")
    lines = said.splitlines()
    assert status == 3
    assert re.fullmatch(r"REPLACED by version 2, issued [0-9T:-]{19}: re-issued: first printout damaged on the ward", lines[1])
    assert re.fullmatch(r"Then replaced by version 3, issued [0-9T:-]{19}: options changed: infusion_start None -> 09:30", lines[2])
    assert lines[3] == "This sheet is not the current one: use version 3 and destroy this one."
    # Version 2 is replaced too, by version 3 only.
    status, said, _ = run("verify", tmp_path / "MRN-100001_induction_2026-06-01_v2_orders.html")
    assert status == 3 and "REPLACED by version 3" in said and "damaged" not in said


def test_verify_works_out_what_changed_when_an_older_log_cut_it_short(run, tmp_path):
    issue(run, tmp_path, PATIENT, "--format", "html")
    issue(run, tmp_path, heavier(tmp_path), "--format", "html")
    with sqlite3.connect(tmp_path / "issue-log.sqlite") as db:  # as dosing before this change wrote it: cut at 6 doses
        db.execute("UPDATE issues SET changes = 'weight 6.4 kg -> 6.8 kg; 9 doses changed: vincristine IV day 8 0.33 -> 0.34 mg; ...'"
                   " WHERE version = 2")
    _, said, _ = run("verify", tmp_path / "MRN-100001_induction_2026-06-01_orders.html")
    assert says_every_weight_change(said.splitlines()[1])
    with sqlite3.connect(tmp_path / "issue-log.sqlite") as db:  # none recorded at all
        db.execute("UPDATE issues SET changes = '' WHERE version = 2")
    _, said, _ = run("verify", tmp_path / "MRN-100001_induction_2026-06-01_orders.html")
    assert says_every_weight_change(said.splitlines()[1])


def administration(drug, day, each, times=1, route="IV", unit="mg"):
    return {"drug": drug, "route": route, "day": day, "dose": each * times, "dose_each": each, "times_per_day": times, "unit": unit}


def test_dose_changes_are_per_dose_complete_and_grouped_by_day():
    names = {"vincristine": "vinCRIStine", "mercaptopurine": "mercaptopurine"}
    # 56 days of mercaptopurine, every one changed: all 56 are said (as one run of days), nothing cut off.
    before = {"administrations": [administration("mercaptopurine", d, 12.5, route="PO") for d in range(1, 57)]
              + [administration("vincristine", 8, 0.33), administration("vincristine", 15, 0.33)]}
    after = {"administrations": [administration("mercaptopurine", d, 13 if d != 30 else 12.5, route="PO") for d in range(1, 57)]
             + [administration("vincristine", 8, 0.34), administration("vincristine", 22, 0.34)]}
    assert dose_changes(before, after, names) == [
        "mercaptopurine PO days 1 to 29, 31 to 56 12.5 mg -> 13 mg",
        "vinCRIStine IV day 8 0.33 mg -> 0.34 mg",
        "vinCRIStine IV day 15 removed (was 0.33 mg)",
        "vinCRIStine IV day 22 added: 0.34 mg",
    ]
    # The same daily total given another way is a change: 3 × 0.2 mg is not 2 × 0.3 mg.
    assert dose_changes({"administrations": [administration("dexamethasone", 1, 0.2, 3, "PO")]},
                        {"administrations": [administration("dexamethasone", 1, 0.3, 2, "PO")]}, {}) == [
        "dexamethasone PO day 1 0.2 mg × 3 a day -> 0.3 mg × 2 a day"]
    assert dose_changes(before, before, names) == []


@given(st.dictionaries(st.integers(1, 60), st.sampled_from([0.25, 0.5, 1, 2])),
       st.dictionaries(st.integers(1, 60), st.sampled_from([0.25, 0.5, 1, 2])))
def test_every_changed_day_is_said_once(old, new):
    """Whatever changes, each day that differs appears in exactly one line, and no other day does."""
    said = dose_changes({"administrations": [administration("cytarabine", d, v) for d, v in old.items()]},
                        {"administrations": [administration("cytarabine", d, v) for d, v in new.items()]}, {})
    named = []
    for line in said:
        days = re.match(r"cytarabine IV days? ([0-9, to]+?) (?:added|removed|[0-9.]+ mg ->)", line)[1]
        for part in days.split(", "):
            first, _, last = part.partition(" to ")
            named += range(int(first), int(last or first) + 1)
    assert sorted(named) == sorted(d for d in set(old) | set(new) if old.get(d) != new.get(d))


def test_reissue_with_a_reason(run, tmp_path):
    issue(run, tmp_path)
    status, out, _ = issue(run, tmp_path, PATIENT, "--reissue", "first printout damaged on the ward")
    assert status == 0 and "_v2_orders.pdf" in out
    assert "re-issued: first printout damaged on the ward" in text(tmp_path / "MRN-100001_induction_2026-06-01_v2_orders.pdf")


def test_verify_an_issued_sheet(run, tmp_path):
    issue(run, tmp_path)
    sheet = tmp_path / "MRN-100001_induction_2026-06-01_orders.pdf"
    status, out, _ = run("verify", sheet)
    assert status == 0 and "every dose still matches" in out and "regimen data: unchanged" in out


def test_verify_a_changed_file_is_refused(run, tmp_path):
    issue(run, tmp_path)
    sheet = tmp_path / "MRN-100001_induction_2026-06-01_orders.pdf"
    sheet.write_bytes(sheet.read_bytes() + b"\n% edited")
    status, _, err = run("verify", sheet)
    assert status == 3 and "not in the issue log as written" in err


def test_verify_after_the_regimen_changed(run, tmp_path):
    issue(run, tmp_path / "out")
    copy = tmp_path / "regimens"
    shutil.copytree(ROOT / "regimens", copy)
    path = copy / "all-baby-2021" / "induction.toml"
    path.write_text(path.read_text().replace('value = "30 mg/m2", tag = "P"', 'value = "25 mg/m2", tag = "P"'))
    status, out, _ = run("verify", tmp_path / "out" / "MRN-100001_induction_2026-06-01_orders.pdf", "--regimens", copy)
    # DAUNOrubicin now 25 × 0.332 × 2/3 = 5.533 -> 5.5 mg instead of 6.6 mg, on both its days
    assert status == 3 and "regimen data: CHANGED" in out
    assert "DOSES DIFFER from the issued sheet: DAUNOrubicin IV days 8, 22 6.6 mg -> 5.5 mg\n" in out


def test_verify_needs_the_log(run, tmp_path):
    lone = tmp_path / "sheet.pdf"
    lone.write_bytes(b"%PDF-1.7")
    status, _, err = run("verify", lone)
    assert status == 3 and "no issue log" in err
