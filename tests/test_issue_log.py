"""The issue log: what is recorded, new versions, nothing overwritten, and verify."""

import shutil
import sqlite3

from pypdf import PdfReader

from conftest import EXAMPLES, ROOT
from dosing.issue_log import regimen_hash, sha256

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
    # DAUNOrubicin: BSA √(62 × 6.8 / 3600) = 0.34222; 30 × 0.34222 × 2/3 = 6.844 -> 6.8 mg (was 6.6 mg)
    assert "DAUNOrubicin IV day 8 6.6 -> 6.8 mg" in sheet
    # safety.md: weight changed 5 % or more since the last sheet (6.4 -> 6.8 kg is +6 %)
    assert "Weight changed by +6% since the last sheet issued for this patient" in sheet


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
    # DAUNOrubicin now 25 × 0.332 × 2/3 = 5.533 -> 5.5 mg instead of 6.6 mg
    assert status == 3 and "regimen data: CHANGED" in out and "DAUNOrubicin IV day 8 6.6 -> 5.5 mg" in out


def test_verify_needs_the_log(run, tmp_path):
    lone = tmp_path / "sheet.pdf"
    lone.write_bytes(b"%PDF-1.7")
    status, _, err = run("verify", lone)
    assert status == 3 and "no issue log" in err
