"""`dosing verify` against a forged issue log (issue 13, item 2): each way the fault run forged it is refused, with the reason.

The fault run: anyone who could write the folder copied another patient's PDF
over a sheet's name, updated one hash in issue-log.sqlite, and verify passed,
naming the wrong patient. Here each forgery is made as that person would make
it, with sqlite3 (and, where it says so, with dosing's own sealing code, which
anyone can run), and verify must refuse it (exit 3), say why in words, and
never print a traceback or "internal error".
"""

import json
import re
import shutil
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES
from dosing import issue_log
from dosing.documents import read_back
from dosing.issue_log import seal, sha256

PETROV = EXAMPLES / "standard-risk.toml"  # MRN-100001, Petrov, Mikhail, born 2026-01-20
SOKOLOVA = EXAMPLES / "kmt2a-rearranged.toml"  # MRN-100002, Sokolova, Eva, born 2026-03-15
INDUCTION = ["--phase", "induction", "--start", "2026-06-01"]
STEM = "MRN-100001_induction_2026-06-01"
KEY = "the centre's key: 7f3a9c2e5b8d1f4a6c0e"  # 38 bytes, over the 16-byte minimum


def issue(run, out, patient=PETROV, *extra, fmt="html", documents="orders"):
    status, _, err = run("sheet", patient, *INDUCTION, "--out", out, "--format", fmt, "--documents", documents, *extra)
    assert status == 0, err


def verify(run, path):
    status, said, err = run("verify", path)
    assert "Traceback" not in said + err and "internal error" not in said + err
    return status, said, err


def log(folder):
    return sqlite3.connect(folder / "issue-log.sqlite")


def reseal(folder, key=None):
    """What someone who can write the folder and run this code can do: rebuild every seal, in order."""
    with log(folder) as db:
        for (issue_id,) in db.execute("SELECT id FROM issues ORDER BY id").fetchall():
            seal(db, issue_id, key)


def heavier(tmp_path):
    path = tmp_path / "heavier.toml"
    path.write_text(PETROV.read_text().replace('"6.4 kg"', '"6.8 kg"'))
    return path


LABEL = r"entry {id} \(version {version} of induction for MRN-100001, day 1 2026-06-01, issued [0-9T:-]{{19}}\)"


def entry(id, version):
    return LABEL.format(id=id, version=version)


def test_an_untouched_sheet_is_verified_and_says_what_was_checked(run, tmp_path):
    issue(run, tmp_path, documents="orders,intrathecal,calendar,record")
    for kind in ("orders", "intrathecal", "calendar", "administration-record"):
        status, said, _ = verify(run, tmp_path / f"MRN-100001_induction_2026-06-01_{kind}.html")
        lines = said.splitlines()
        assert status == 0, said
        assert lines[1] == ("issue log unbroken: its 1 entry sealed, without a key: this shows an edit made without rebuilding the "
                            "seals, not one made by someone who rebuilt them (README, The issue log)")
        assert lines[2] == ("printed text: the patient, record number, phase, day 1 and version 1 on every page, and every dose line, "
                            "as the recomputation gives them")
        assert lines[4] == "every dose still matches (62 administrations recomputed from the recorded patient file)"


def test_another_patients_pdf_copied_over_a_sheet_with_its_hash_forged(run, tmp_path):
    # The fault run exactly: Sokolova's orders copied over Petrov's, the files table's hash updated.
    issue(run, tmp_path, PETROV, fmt="pdf")
    issue(run, tmp_path, SOKOLOVA, fmt="pdf")
    target = tmp_path / f"{STEM}_orders.pdf"
    shutil.copyfile(tmp_path / "MRN-100002_induction_2026-06-01_orders.pdf", target)
    with log(tmp_path) as db:
        db.execute("UPDATE files SET sha256 = ? WHERE name = ?", (sha256(target.read_bytes()), target.name))
    status, said, _ = verify(run, target)
    assert status == 3
    assert re.search(f"^ISSUE LOG BROKEN: {entry(1, 1)} does not match its seal: it, or its files' names or hashes, were changed "
                     "after it was issued$", said, re.M)
    # Every page names the other patient: said, with whom it names.
    assert re.search(r"^PRINTED TEXT DIFFERS: pages 1, 2(, \d)* of \d do not print the patient the issue log records \(Petrov, Mikhail · born Tue 20 Jan 2026 · record no\. MRN-100001\); "
                     r"it prints: Sokolova, Eva · born Sun 15 Mar 2026 · record no\. MRN-100002$", said, re.M), said
    assert "Do not give from this sheet: it is not shown to be the sheet that was issued." in said
    # The forger also rebuilds the seals (no key, so anyone can): the chain holds, the sheet's own text still refuses it.
    reseal(tmp_path)
    status, said, _ = verify(run, target)
    assert status == 3 and "ISSUE LOG BROKEN" not in said and said.splitlines()[1].startswith("issue log unbroken: all 2 entries sealed")
    assert "it prints: Sokolova, Eva · born Sun 15 Mar 2026 · record no. MRN-100002" in said
    # Her weight (4800 g) is not his: the body size and the doses are refused too.
    assert "PRINTED TEXT DIFFERS: the sheet does not print the body size the recomputation gives (Weight 6.4 kg Length 62 cm" in said
    assert re.search(r"^PRINTED TEXT DIFFERS: \d+ of the \d+ dose lines the recomputation gives are not printed", said, re.M)


def test_a_dose_edited_in_the_log(run, tmp_path):
    issue(run, tmp_path)
    # vinCRIStine day 8: 1.5 mg/m² × 0.332 m² × 2/3 = 0.332 -> 0.33 mg as issued; the forger writes 0.5 mg.
    with log(tmp_path) as db:
        orders = json.loads(db.execute("SELECT orders FROM issues").fetchone()[0])
        (given,) = [a for a in orders["administrations"] if a["drug"] == "vincristine" and a["day"] == 8]
        assert given["dose_each"] == 0.33
        given["dose"] = given["dose_each"] = 0.5
        db.execute("UPDATE issues SET orders = ?", (json.dumps(orders, sort_keys=True),))
    status, said, _ = verify(run, tmp_path / f"{STEM}_orders.html")
    assert status == 3
    assert re.search(f"^ISSUE LOG BROKEN: {entry(1, 1)} does not match its seal", said, re.M)
    assert "DOSES DIFFER from the issued sheet: vinCRIStine IV day 8 0.5 mg -> 0.33 mg\n" in said
    # Re-sealed: the chain holds, and the recomputation still refuses it.
    reseal(tmp_path)
    status, said, _ = verify(run, tmp_path / f"{STEM}_orders.html")
    assert status == 3 and "ISSUE LOG BROKEN" not in said and "DOSES DIFFER from the issued sheet: vinCRIStine IV day 8 0.5 mg -> 0.33 mg" in said


def three_versions(run, tmp_path):
    issue(run, tmp_path)
    issue(run, tmp_path, heavier(tmp_path))
    issue(run, tmp_path, heavier(tmp_path), "--infusion-start", "09:30")


def test_a_deleted_entry(run, tmp_path):
    three_versions(run, tmp_path)
    # Version 2 deleted, its files' rows too: version 1 would read as replaced by 3 only, as if 2 never was.
    with log(tmp_path) as db:
        db.execute("DELETE FROM files WHERE issue_id = 2")
        db.execute("DELETE FROM issues WHERE id = 2")
    status, said, _ = verify(run, tmp_path / f"{STEM}_orders.html")
    assert status == 3
    assert re.search(f"^ISSUE LOG BROKEN: {entry(3, 3)} does not follow the sealed entry before it: an entry before it was deleted, "
                     "inserted or moved, or its seal was changed$", said, re.M)
    # Deleted carelessly (its files' rows left): said as well.
    with log(tmp_path) as db:
        db.execute("DELETE FROM issues WHERE id = 1")
    status, said, _ = verify(run, tmp_path / f"{STEM}_v3_orders.html")
    assert status == 3 and "ISSUE LOG BROKEN: files are recorded for entry 1, which the log no longer holds: an entry was deleted" in said


def test_the_newest_entry_deleted_while_its_file_is_still_in_the_folder(run, tmp_path):
    # The chain cannot show its last entry gone; the later version's file still in the folder can.
    three_versions(run, tmp_path)
    with log(tmp_path) as db:
        db.execute("DELETE FROM files WHERE issue_id = 3")
        db.execute("DELETE FROM issues WHERE id = 3")
    status, said, _ = verify(run, tmp_path / f"{STEM}_v2_orders.html")
    assert status == 3 and "REPLACED" not in said
    assert (f"NOT IN THE ISSUE LOG: {STEM}_v3_orders.html is in this folder: a later version of this sheet being issued now, left by a "
            "run that was stopped (the next issue into this folder rolls it back), or the log lost its newest entries") in said


def test_reordered_and_inserted_entries(run, tmp_path):
    three_versions(run, tmp_path)
    with log(tmp_path) as db:  # entries 1 and 2 swap places, files and all
        for old, new in ((1, -1), (2, 1), (-1, 2)):
            db.execute("UPDATE issues SET id = ? WHERE id = ?", (new, old))
            db.execute("UPDATE files SET issue_id = ? WHERE issue_id = ?", (new, old))
    status, said, _ = verify(run, tmp_path / f"{STEM}_v3_orders.html")
    assert status == 3
    for broken in (entry(1, 2), entry(2, 1)):
        assert re.search(f"^ISSUE LOG BROKEN: {broken} does not match its seal", said, re.M), said
    assert re.search(f"^ISSUE LOG BROKEN: {entry(1, 2)} does not follow the sealed entry before it", said, re.M)


def test_an_inserted_entry(run, tmp_path):
    three_versions(run, tmp_path)
    # A version 4 made up by copying version 3's row, linked to it, naming a file put in the folder.
    forged = tmp_path / f"{STEM}_v4_orders.html"
    shutil.copyfile(tmp_path / f"{STEM}_v3_orders.html", forged)
    with log(tmp_path) as db:
        db.execute("INSERT INTO issues (issued_at, patient_id, phase, start, version, replaces, changes, tool_version, inputs_sha256, inputs,"
                   " regimen_sha256, options, orders, previous_hash, entry_hash, seal) SELECT issued_at, patient_id, phase, start, 4, 3,"
                   " 're-issued', tool_version, inputs_sha256, inputs, regimen_sha256, options, orders, entry_hash, entry_hash, seal"
                   " FROM issues WHERE id = 3")
        db.execute("INSERT INTO files VALUES (4, ?, ?)", (forged.name, sha256(forged.read_bytes())))
    status, said, _ = verify(run, tmp_path / f"{STEM}_v3_orders.html")
    assert status == 3 and re.search(r"^ISSUE LOG BROKEN: entry 4 \(version 4 of induction .*\) does not match its seal", said, re.M)
    # Its own text says version 3, not 4: refused on that too, even with the seals rebuilt.
    reseal(tmp_path)
    status, said, _ = verify(run, forged)
    assert status == 3 and "ISSUE LOG BROKEN" not in said
    assert "PRINTED TEXT DIFFERS: the sheet does not print the version the issue log records (version 4 · produced); it prints: version 3" in said


@pytest.mark.parametrize("damage, why", [
    (lambda path: path.write_bytes(b"\0garbage header!" + path.read_bytes()[16:]), "file is not a database"),
    (lambda path: path.write_text("not a log at all\n" * 20), "file is not a database"),
    (lambda path: sqlite3.connect(path).executescript("DROP TABLE files"), "no files table"),
    (lambda path: sqlite3.connect(path).executescript("ALTER TABLE issues DROP COLUMN orders"), "the issues table lacks orders"),
    (lambda path: sqlite3.connect(path).executescript("UPDATE issues SET orders = '{cut short'"), "entry 1 is malformed: Expecting"),
])
def test_a_damaged_log_is_a_clear_refusal(run, tmp_path, damage, why):
    issue(run, tmp_path)
    path = tmp_path / "issue-log.sqlite"
    damage(path)
    status, _, err = verify(run, tmp_path / f"{STEM}_orders.html")
    assert status == 3
    assert err.startswith(f"dosing: refused: {path}: is not a readable issue log ({why}")
    assert err.rstrip().endswith("it may have been damaged; do not issue into this folder; restore the log from backup, or issue into a "
                                 "new folder")


def test_issuing_into_a_folder_whose_log_is_damaged_is_refused(run, tmp_path):
    issue(run, tmp_path)
    path = tmp_path / "issue-log.sqlite"
    path.write_bytes(b"\0garbage header!" + path.read_bytes()[16:])
    before = sorted(p.name for p in tmp_path.iterdir())
    status, _, err = run("sheet", PETROV, *INDUCTION, "--out", tmp_path, "--format", "html", "--documents", "orders", "--reissue",
                         "the printout was lost on the ward")
    assert status == 3 and "is not a readable issue log (file is not a database)" in err and "internal error" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_the_centres_key(run, tmp_path, monkeypatch):
    monkeypatch.setenv("DOSING_LOG_KEY", KEY)
    issue(run, tmp_path)
    issue(run, tmp_path, heavier(tmp_path))
    key_id = issue_log.key_id(KEY.encode())
    status, said, _ = verify(run, tmp_path / f"{STEM}_orders.html")
    assert status == 3 and "REPLACED by version 2" in said  # sealed and whole; replaced, as before
    status, said, _ = verify(run, tmp_path / f"{STEM}_v2_orders.html")
    assert status == 0 and f"issue log unbroken: all 2 entries sealed, each linked to the one before; this sheet's entry sealed with " \
                           f"the centre's key ({key_id})" in said
    with log(tmp_path) as db:
        assert db.execute("SELECT seal FROM issues").fetchall() == [(f"hmac-sha256 key {key_id}",)] * 2  # never the key itself
        assert not any(KEY.encode() in bytes(str(row), "utf-8") for row in db.execute("SELECT * FROM issues"))
    # Without the key, nobody can check the seals: refused, saying how to give it.
    monkeypatch.delenv("DOSING_LOG_KEY")
    status, said, _ = verify(run, tmp_path / f"{STEM}_v2_orders.html")
    assert status == 3 and ("ISSUE LOG BROKEN: 2 entries are sealed with the centre's key and cannot be checked without it: set "
                            "DOSING_LOG_KEY or DOSING_LOG_KEY_FILE as the centre does when it issues") in said
    # Another key: said.
    monkeypatch.setenv("DOSING_LOG_KEY", "another centre's key, 33 bytes!!")
    status, said, _ = verify(run, tmp_path / f"{STEM}_v2_orders.html")
    assert status == 3 and f"was sealed with another key ({key_id}) than the one given" in said
    monkeypatch.setenv("DOSING_LOG_KEY", KEY)
    # An edit re-sealed by someone without the key: the seal cannot be made, so it does not check.
    with log(tmp_path) as db:
        db.execute("UPDATE issues SET changes = 'nothing' WHERE version = 2")
        for (issue_id,) in db.execute("SELECT id FROM issues ORDER BY id").fetchall():
            keep = db.execute("SELECT seal FROM issues WHERE id = ?", (issue_id,)).fetchone()[0]
            seal(db, issue_id, None)  # the unkeyed hash, the keyed seal's name kept
            db.execute("UPDATE issues SET seal = ? WHERE id = ?", (keep, issue_id))
    status, said, _ = verify(run, tmp_path / f"{STEM}_v2_orders.html")
    assert status == 3 and re.search(r"^ISSUE LOG BROKEN: entry 2 \(version 2 of .*\) does not match its seal", said, re.M)
    # ... or every seal rebuilt without a key, as a log never keyed: refused while the centre's key is set.
    reseal(tmp_path)
    status, said, _ = verify(run, tmp_path / f"{STEM}_v2_orders.html")
    assert status == 3 and f"NOT SEALED with the centre's key ({key_id}): this sheet's entry is sealed without it" in said


def test_a_key_file_and_a_key_too_short(run, tmp_path, monkeypatch):
    key_file = tmp_path / "centre.key"
    key_file.write_text(KEY + "\n")  # the line end is not part of the key
    monkeypatch.setenv("DOSING_LOG_KEY_FILE", str(key_file))
    issue(run, tmp_path / "out")
    status, said, _ = verify(run, tmp_path / "out" / f"{STEM}_orders.html")
    assert status == 0 and f"sealed with the centre's key ({issue_log.key_id(KEY.encode())})" in said
    monkeypatch.delenv("DOSING_LOG_KEY_FILE")
    # 15 bytes: one under the 16-byte minimum; 16 bytes is a key.
    monkeypatch.setenv("DOSING_LOG_KEY", "x" * 15)
    status, _, err = run("sheet", PETROV, *INDUCTION, "--out", tmp_path / "short", "--format", "html", "--documents", "orders")
    assert status == 3 and "DOSING_LOG_KEY: the key is 15 bytes; a key shorter than 16 bytes can be guessed" in err
    assert not (tmp_path / "short" / f"{STEM}_orders.html").exists()
    status, _, err = verify(run, tmp_path / "out" / f"{STEM}_orders.html")
    assert status == 3 and "the key is 15 bytes" in err
    monkeypatch.setenv("DOSING_LOG_KEY", "x" * 16)
    issue(run, tmp_path / "sixteen")


def test_a_log_from_before_the_seal(run, tmp_path):
    issue(run, tmp_path)
    with log(tmp_path) as db:  # as dosing wrote it before this change: no seal columns
        db.executescript("ALTER TABLE issues DROP COLUMN previous_hash; ALTER TABLE issues DROP COLUMN entry_hash;"
                         " ALTER TABLE issues DROP COLUMN seal")
    status, said, _ = verify(run, tmp_path / f"{STEM}_orders.html")
    assert status == 3
    assert ("NOT SEALED: this sheet's entry was recorded by a dosing from before the issue log was sealed, or its seal was removed: an "
            "edit to it cannot be detected; to have a sealed sheet, issue it again with --reissue \"REASON\"") in said
    assert "every dose still matches" in said  # still recomputed and read
    # Issued again: the new version is sealed, the old entry is left as it was (not sealed after the fact).
    issue(run, tmp_path, PETROV, "--reissue", "re-issued to have a sealed sheet")
    status, said, _ = verify(run, tmp_path / f"{STEM}_v2_orders.html")
    assert status == 0 and "issue log unbroken: 1 of its 2 entries sealed, each linked to the one before (the first was recorded " \
                           "before the log was sealed)" in said
    with log(tmp_path) as db:
        assert db.execute("SELECT entry_hash IS NULL FROM issues ORDER BY id").fetchall() == [(1,), (0,)]
        # The new entry's seal removed, to pass it off as old: refused as not sealed all the same.
        db.execute("UPDATE issues SET entry_hash = NULL, previous_hash = NULL, seal = NULL WHERE id = 2")
    status, said, _ = verify(run, tmp_path / f"{STEM}_v2_orders.html")
    assert status == 3 and "NOT SEALED: this sheet's entry" in said


def test_verify_on_the_page_heads_a_forged_sheet_so(tmp_path, run):
    from dosing.verification import verify as check

    issue(run, tmp_path)
    with log(tmp_path) as db:
        db.execute("UPDATE issues SET changes = 'edited'")
    result = check(tmp_path / f"{STEM}_orders.html")
    assert result.headline == "LOG BROKEN" and not result.matches


# What a sheet prints, read back: any digit of any dose line changed is found.

@pytest.fixture(scope="module")
def printed_documents():
    from datetime import date

    from dosing.documents import documents, render
    from dosing.patient import load
    from dosing.regimen import load_phase, load_protocol
    from dosing.pipeline import compute
    from dosing.requests import Request, request_options

    protocol = load_protocol(None)
    request = Request(start=date(2026, 6, 1), out=None, format="html")
    orders = compute(load(PETROV), protocol, load_phase(protocol, "induction"), request.start, request_options(request, None),
                     patient_text=PETROV.read_text(encoding="utf-8"))
    return [(read_back.html_text(render.html(d)), read_back.printed(d)) for d in documents(orders)]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_digit_of_a_printed_dose_changed_is_found(printed_documents, data):
    text, expected = printed_documents[data.draw(st.integers(0, len(printed_documents) - 1), label="document")]
    assert read_back.differences([text], expected) == []  # as printed: nothing to say
    lines = [line for what, line, _ in expected.in_order if what == "dose" and any(c.isdigit() for c in line)]
    line = read_back.squeezed(data.draw(st.sampled_from(lines)))
    flat = read_back.squeezed(text)
    at = flat.find(line)
    digits = [at + n for n, c in enumerate(line) if c.isdigit()]
    where = data.draw(st.sampled_from(digits))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != flat[where]]))
    changed = flat[:where] + other + flat[where + 1:]
    assert any("dose lines the recomputation gives are not printed" in said for said in read_back.differences([changed], expected))


@pytest.mark.parametrize("forge", [
    "UPDATE issues SET start = 'June'",
    "UPDATE issues SET version = 'one'",
    "UPDATE issues SET options = '{}'",
    "UPDATE issues SET orders = '{\"weight_kg\": 6.4, \"administrations\": [{\"drug\": \"vincristine\"}]}'",
    "UPDATE issues SET inputs = 'text, not the file'",
    "UPDATE issues SET phase = x'00ff'",
])
def test_an_entry_dosing_would_not_write_is_named(run, tmp_path, forge):
    issue(run, tmp_path)
    with log(tmp_path) as db:
        db.execute(forge)
    status, said, err = verify(run, tmp_path / f"{STEM}_orders.html")
    assert status == 3 and f"{tmp_path / 'issue-log.sqlite'}: is not a readable issue log (entry 1 is malformed: " in err
    # Issuing into the folder is refused the same way, before anything is written.
    status, _, err = run("sheet", PETROV, *INDUCTION, "--out", tmp_path, "--format", "html", "--documents", "orders", "--reissue",
                         "the printout was lost on the ward")
    assert status == 3 and "is not a readable issue log (entry 1 is malformed: " in err and "internal error" not in err
