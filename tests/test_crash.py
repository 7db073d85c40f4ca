"""Issued means issued: real `dosing sheet` runs killed while issuing, races, file names and permissions.

Every run here is a real process (`python -m dosing`), killed with kill -9 or
Ctrl-C's SIGINT, at each named point of the writing (the test hook
DOSING_TEST_STOP_AT, dosing.output) and at random moments. After each kill the
issue log is never ahead of the files; after the next plain run there is no
orphan file, no hidden working file, the log's versions run 1, 2, 3 ... with
no gap, and that run either issued the sheet or was refused only because the
killed run had issued it already.
"""

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import EXAMPLES, ROOT, TODAY
from dosing.issue_log import sha256
from dosing.output import POINTS, safe_id

PATIENT = EXAMPLES / "standard-risk.toml"  # MRN-100001, 6.4 kg
SHEET = ["--phase", "induction", "--start", "2026-06-01", "--documents", "orders,intrathecal"]
ENV = {**os.environ, "DOSING_TODAY": TODAY, "PYTHONPATH": str(ROOT)}
ENV.pop("DOSING_TEST_STOP_AT", None)
ENV.pop("DOSING_TEST_STEP_SECONDS", None)
LOG = "issue-log.sqlite"
#: after these points the log holds the issue: the sheet is issued, whatever happens next
ISSUED_FROM = POINTS.index("recorded")


def command(out, patient=PATIENT, fmt="html", *extra):
    return [sys.executable, "-m", "dosing", "sheet", str(patient), *SHEET, "--format", fmt, "--out", str(out), *extra]


def start(arguments, folder: Path, **env):
    """A real run, in its own process group (so a PDF printer it forks can be cleaned up by that group's id)."""
    err = open(folder.parent / f"{folder.name}.err", "w+b")
    process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=err, env={**ENV, **env}, start_new_session=True,
                               cwd=str(folder.parent))
    return process, err


def finish_off(process, err) -> str:
    """Wait for a run, then end anything it forked (by its own process group's id); its standard error."""
    process.wait(timeout=120)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    err.seek(0)
    text = err.read().decode("utf-8", "replace")
    err.close()
    return text


def stop_at(arguments, folder: Path, point: str, sig) -> str:
    """Run until the writer says it stopped at `point`, then send `sig`; its standard error."""
    process, err = start(arguments, folder, DOSING_TEST_STOP_AT=point)
    deadline = time.monotonic() + 120
    marker = f"test hook: stopped at {point}".encode()
    while marker not in Path(err.name).read_bytes():
        assert process.poll() is None, Path(err.name).read_text()
        assert time.monotonic() < deadline, "the run never reached " + point
        time.sleep(0.02)
    process.send_signal(sig)
    return finish_off(process, err)


def rerun(arguments, folder: Path):
    done = subprocess.run(arguments, capture_output=True, text=True, env=ENV, timeout=300, cwd=str(folder.parent))
    return done.returncode, done.stdout, done.stderr


def entries(folder: Path) -> list[tuple]:
    """(patient, phase, start, version, {file: sha256}) of every issue in the log, in order."""
    if not (folder / LOG).exists():
        return []
    with sqlite3.connect(folder / LOG) as db:
        rows = db.execute("SELECT id, patient_id, phase, start, version FROM issues ORDER BY id").fetchall()
        return [(*row[1:], dict(db.execute("SELECT name, sha256 FROM files WHERE issue_id = ?", (row[0],)).fetchall()))
                for row in rows]


def working(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".partial-*"))


def sheets_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if not p.name.startswith(".") and p.name != LOG}


def log_never_ahead(folder: Path) -> None:
    """At any moment, even just after a kill: every file the log names is there, as recorded."""
    for *_, files in entries(folder):
        for name, digest in files.items():
            assert sha256((folder / name).read_bytes()) == digest, name


def consistent(folder: Path) -> None:
    """After a run completed: no working file, no orphan, the log's files as recorded, versions 1..n per sheet."""
    assert working(folder) == []
    log_never_ahead(folder)
    logged = {name for *_, files in entries(folder) for name in files}
    assert sheets_in(folder) == logged, f"orphans: {sheets_in(folder) - logged}"
    versions = {}
    for patient, phase, day, version, files in entries(folder):
        versions.setdefault((patient, phase, day), []).append(version)
        assert files, "an issue with no files"
    for each in versions.values():
        assert each == list(range(1, len(each) + 1))


def weighing(folder: Path, grams: int) -> Path:
    """The example patient at another weight: a changed patient file, so a new version to issue."""
    path = folder.parent / f"{folder.name}-{grams}g.toml"  # beside the folder, not in it
    path.write_text(PATIENT.read_text().replace('"6.4 kg"', f'"{grams} g"'))
    return path


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """A folder with version 1 of the induction sheets issued, and how long that run took (seconds)."""
    folder = tmp_path_factory.mktemp("issued") / "sheets"
    folder.mkdir()
    began = time.monotonic()
    status, _, err = rerun(command(folder), folder)
    assert status == 0, err
    return folder, time.monotonic() - began


def copy_of(issued, tmp_path, name="sheets") -> Path:
    folder = tmp_path / name
    shutil.copytree(issued[0], folder)
    return folder


# -- killed at each point of the writing ----------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_killed_at_every_point_of_the_writing(issued, tmp_path, sig):
    def trial(point):
        folder = copy_of(issued, tmp_path, f"{point}")
        arguments = command(folder, weighing(folder, 6500))  # 6.5 kg: version 2
        err = stop_at(arguments, folder, point, sig)
        log_never_ahead(folder)
        committed = POINTS.index(point) >= ISSUED_FROM
        assert [e[3] for e in entries(folder)] == ([1, 2] if committed else [1]), (point, err)
        if sig == signal.SIGINT:
            # Ctrl-C undoes at once: nothing left behind, not even for the next run to tidy.
            consistent(folder)
            assert "Traceback" not in err
        status, out, err = rerun(arguments, folder)
        if committed:
            assert status == 3 and "already issued: version 2 of this sheet" in err, err
        else:
            assert status == 0, err
            assert out.split() == [str(folder / f"MRN-100001_induction_2026-06-01_v2_{kind}.html") for kind in ("orders", "intrathecal")]
        if sig == signal.SIGKILL and point in ("journal", "linked-first", "linked"):
            left = {"journal": "none of its files had appeared",
                    "linked-first": "removed the files it had written so far (MRN-100001_induction_2026-06-01_v2_orders.html)",
                    "linked": "removed the files it had written so far (MRN-100001_induction_2026-06-01_v2_orders.html, "
                              "MRN-100001_induction_2026-06-01_v2_intrathecal.html)"}[point]
            assert (f"left version 2 of induction for MRN-100001, day 1 2026-06-01 unfinished: {left}; nothing was issued") in err
        if sig == signal.SIGKILL and point == "written":
            assert "note: removed 2 hidden working files of a run stopped before it issued anything" in err
        if sig == signal.SIGKILL and point == "recorded":
            assert "after it issued version 2 of induction for MRN-100001, day 1 2026-06-01, before it removed its hidden working " \
                   "files: removed them (the sheet stands as issued)" in err
        consistent(folder)
        assert [e[3] for e in entries(folder)] == [1, 2]
        verified = subprocess.run([sys.executable, "-m", "dosing", "verify", str(folder / "MRN-100001_induction_2026-06-01_v2_orders.html")],
                                  capture_output=True, text=True, env=ENV)
        assert verified.returncode == 0 and "every dose still matches" in verified.stdout, verified.stderr

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(trial, POINTS))


def test_a_pdf_run_killed_mid_write_then_at_random(issued, tmp_path):
    folder = copy_of(issued, tmp_path)
    arguments = command(folder, weighing(folder, 6500), "pdf")
    stop_at(arguments, folder, "linked-first", signal.SIGKILL)
    assert len(sheets_in(folder) - {n for *_, f in entries(folder) for n in f}) == 1  # the orphan a kill leaves, for now
    began = time.monotonic()
    status, _, err = rerun(arguments, folder)
    took = time.monotonic() - began
    assert status == 0 and "nothing was issued" in err, err
    consistent(folder)
    # Then a kill anywhere in a PDF run (version 3), and a plain re-run.
    arguments = command(folder, weighing(folder, 6600), "pdf")
    process, err = start(arguments, folder)
    time.sleep(random.uniform(0, took))
    process.send_signal(signal.SIGKILL)
    finish_off(process, err)
    log_never_ahead(folder)
    before = len(entries(folder))
    status, _, err = rerun(arguments, folder)
    assert status == 0 or (before == 3 and "already issued: version 3" in err), err
    consistent(folder)
    assert [e[3] for e in entries(folder)] == [1, 2, 3]


def test_a_resumption_killed_mid_write(tmp_path):
    # No issue log for a resumption: removing the journal is the moment it is issued.
    folder = tmp_path / "sheets"
    arguments = [sys.executable, "-m", "dosing", "blinatumomab-resume", str(EXAMPLES / "kmt2a-rearranged.toml"), "--start", "2026-07-06",
                 "--infusion-start", "10:00", "--stopped", "2026-07-10 16:00", "--restart", "2026-07-11 08:00", "--format", "html",
                 "--out", str(folder), "--override-pathway", "blinatumomab test for this infant",
                 "--override-dates", "hand-worked test: the measurement at diagnosis for every course"]
    folder.mkdir()
    stop_at(arguments, folder, "linked-first", signal.SIGKILL)
    assert len(sheets_in(folder)) == 1 and working(folder)
    status, out, err = rerun(arguments, folder)
    assert status == 0 and "note: a run interrupted at" in err and "the blinatumomab resumption sheets for MRN-100002" in err, err
    assert working(folder) == [] and sheets_in(folder) == {Path(p).name for p in out.split()} and len(out.split()) == 2


# -- killed at random moments -------------------------------------------------------------------

def test_killed_at_random_moments(issued, tmp_path):
    """Two folders, each a chain of runs issuing new versions, each run killed at a random moment, then run again.

    The kill falls uniformly from 0 to the run's normal length (the last plain run's, in the same conditions:
    two chains side by side); every other run pauses 0.15 s at each point of the writing
    (DOSING_TEST_STEP_SECONDS), so kills land inside the writing as well as in the computing.
    """
    seen = {}

    def chain(number):
        rng, normal = random.Random(number), issued[1]
        folder = copy_of(issued, tmp_path, f"chain-{number}")
        for trial in range(10):
            arguments = command(folder, weighing(folder, 6410 + 200 * number + 10 * trial))
            step = 0.15 if trial % 2 else 0
            process, err = start(arguments, folder, **({"DOSING_TEST_STEP_SECONDS": str(step)} if step else {}))
            time.sleep(rng.uniform(0, normal + step * len(POINTS)))
            process.send_signal(signal.SIGINT if trial % 4 == 3 else signal.SIGKILL)
            finish_off(process, err)
            log_never_ahead(folder)
            before = entries(folder)
            state = ("issued" if len(before) == trial + 2 else "files" if sheets_in(folder) - {n for *_, f in before for n in f}
                     else "working files" if working(folder) else "nothing")
            seen[state] = seen.get(state, 0) + 1
            began = time.monotonic()
            status, out, err = rerun(arguments, folder)
            if state == "issued":
                assert status == 3 and f"already issued: version {trial + 2} of this sheet" in err, err
            else:
                assert status == 0, err
                assert len(out.split()) == 2 and all(f"_v{trial + 2}_" in line for line in out.split())
                normal = time.monotonic() - began
            consistent(folder)
            assert [e[3] for e in entries(folder)] == list(range(1, trial + 3))

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(chain, (0, 1)))
    print(f"random kills: {seen}")
    assert sum(seen.values()) == 20


# -- two runs at once -----------------------------------------------------------------------------

RACER = """
import contextlib, io, json, sys
from dosing.cli import main
said = []
for n in range(6):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(sys.argv[1:] + ["--reissue", f"concurrency test, process {sys.argv[-1][-1]} run {n}"])
    said.append((status, err.getvalue()))
print(json.dumps(said))
"""


def test_two_processes_issuing_at_once_get_consecutive_versions(issued, tmp_path):
    folder = copy_of(issued, tmp_path)
    runs = [subprocess.Popen([sys.executable, "-c", RACER, "sheet", str(PATIENT), *SHEET, "--format", "html", "--out", str(folder)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV) for _ in range(2)]
    said = [result for process in runs for result in json.loads(process.communicate(timeout=300)[0])]
    issued_now = [err for status, err in said if status == 0]
    refused = [err for status, err in said if status != 0]
    assert all(status in (0, 3) for status, _ in said)
    for err in refused:  # a race's loser is told the truth, never "already issued"
        assert "another run issued version" in err and "was NOT issued" in err and "already issued" not in err, err
    consistent(folder)
    assert [e[3] for e in entries(folder)] == list(range(1, 2 + len(issued_now)))


def test_the_loser_of_a_race_is_told_its_sheet_was_not_issued(run, tmp_path):
    from dosing.issuing import prepare
    from dosing.output import NotIssued
    from dosing.regimen import load_phase, load_protocol
    from dosing.requests import Request

    protocol = load_protocol(None)
    out = tmp_path / "out"
    assert run("sheet", PATIENT, *SHEET, "--format", "html", "--out", out)[0] == 0
    heavier = weighing(out, 6800)
    request = Request(start=date(2026, 6, 1), out=out, format="html", documents=frozenset({"orders", "intrathecal"}))
    loser = prepare(heavier, protocol, load_phase(protocol, "induction"), request)  # computes version 2 ...
    assert loser.version == 2
    # ... while another run issues version 2 with other inputs:
    assert run("sheet", PATIENT, *SHEET, "--format", "html", "--out", out, "--reissue", "first printout damaged on the ward")[0] == 0
    with pytest.raises(NotIssued) as refused:
        loser.finish([b"<html>2</html>", b"<html>2</html>"])
    assert [e[3] for e in entries(out)] == [1, 2]
    said = str(refused.value)
    assert said.startswith("output: another run issued version 2 of this sheet (induction for MRN-100001, day 1 2026-06-01) at 20")
    assert "while this one was computing; this run's sheet (version 2) was NOT issued and nothing of it was kept; " \
           "run it again to issue a new version with these inputs" in said
    consistent(out)
    # Run again, as it says: version 3, with what changed since version 2.
    status, said, _ = run("sheet", heavier, *SHEET, "--format", "html", "--out", out)
    assert status == 0 and "_v3_orders.html" in said
    assert [e[3] for e in entries(out)] == [1, 2, 3]


# -- file names ----------------------------------------------------------------------------------

def test_ids_that_clean_alike_get_their_own_file_names(run, patient_file, tmp_path):
    out = tmp_path / "out"
    for number, each in enumerate(("MRN/7", "MRN_7", "MRN 7", "A" * 64 + "1", "A" * 64 + "2")):
        path = patient_file(f"p{number}.toml", patient={"id": each})
        status, said, err = run("sheet", path, "--phase", "induction", "--start", "2026-05-05", "--format", "html",
                                "--documents", "orders", "--out", out)
        assert status == 0, err
        assert said.strip() == str(out / f"{safe_id(each)}_induction_2026-05-05_orders.html")
    names = sheets_in(out)
    assert len(names) == 5 and all(len(n.split("_induction_")[0]) <= 64 for n in names)
    # MRN/7: '/' cleaned to '_', then '_' and the first 8 hex digits of SHA-256("MRN/7")
    assert safe_id("MRN/7") == "MRN_7_" + sha256(b"MRN/7")[:8] and safe_id("MRN_7") == "MRN_7_" + sha256(b"MRN_7")[:8]
    consistent(out)


def test_plain_ids_are_the_file_names_as_they_were():
    assert safe_id("MRN-100001") == "MRN-100001"
    assert safe_id("A" * 64) == "A" * 64
    assert safe_id("A" * 65) == "A" * 55 + "_" + sha256(("A" * 65).encode())[:8]  # 55 + 1 + 8 = 64 characters
    assert safe_id("-MRN") != "MRN" and safe_id("../../") == "patient_" + sha256(b"../../")[:8]


@given(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80))
def test_two_ids_never_share_a_file_name(first, second):
    if first != second:
        assert safe_id(first) != safe_id(second)
    for each in (first, second):
        name = safe_id(each)
        assert 1 <= len(name) <= 64 and name[0].isalnum() and set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def test_a_file_in_the_way_that_was_never_issued_is_named_for_what_it_is(run, tmp_path):
    # What an older dosing, killed while writing, left: a complete-looking sheet in no log.
    (tmp_path / "MRN-100001_induction_2026-06-01_orders.html").write_text("<html>left behind</html>")
    status, _, err = run("sheet", PATIENT, *SHEET, "--format", "html", "--out", tmp_path)
    assert status == 3 and "already issued" not in err
    assert "MRN-100001_induction_2026-06-01_orders.html is in the folder but not in its issue log, so it was never issued here" in err
    assert "move that file out of the folder" in err and working(tmp_path) == []
    (tmp_path / "MRN-100001_induction_2026-06-01_orders.html").unlink()
    assert run("sheet", PATIENT, *SHEET, "--format", "html", "--out", tmp_path)[0] == 0
    consistent(tmp_path)


# -- --out and permissions ----------------------------------------------------------------------

@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_out_that_cannot_be_a_folder_is_named(run, tmp_path, where):
    afile = tmp_path / "notes.txt"
    afile.write_text("not a folder")
    out = afile if where == "a file" else afile / "sheets"
    expected = f"--out: {afile} is a file, not a folder" if where == "a file" else \
        f"--out: {afile} is a file, so the folder {out} cannot be made"
    resume = ("blinatumomab-resume", EXAMPLES / "kmt2a-rearranged.toml", "--start", "2026-07-06", "--infusion-start", "10:00",
              "--stopped", "2026-07-10 16:00", "--restart", "2026-07-11 08:00", "--format", "html",
              "--override-pathway", "blinatumomab test for this infant",
              "--override-dates", "hand-worked test: the measurement at diagnosis for every course")
    for arguments in (("sheet", PATIENT, *SHEET), ("sheet", PATIENT, *SHEET, "--format", "html"), resume, ("serve", "--port", "0")):
        status, _, err = run(*arguments, "--out", out)
        assert status == 3 and expected in err and "give --out a folder you can write in" in err, (arguments, err)
        assert "internal error" not in err
    assert afile.read_text() == "not a folder"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_files_get_the_folders_normal_permissions(run, tmp_path, umask, mode):
    before = os.umask(umask)
    try:
        assert run("sheet", PATIENT, *SHEET, "--format", "html", "--out", tmp_path / "out")[0] == 0
    finally:
        os.umask(before)
    made = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in made] == [".issue-log.lock", "MRN-100001_induction_2026-06-01_intrathecal.html",
                                      "MRN-100001_induction_2026-06-01_orders.html", LOG]
    assert {oct(p.stat().st_mode & 0o777) for p in made} == {oct(mode)}


def test_a_file_a_stopped_run_left_says_it_was_never_issued(issued, tmp_path):
    # For `dosing verify` (dosing.output.unfinished): until the next run tidies up, the orphan is named for what it is.
    from dosing.output import unfinished

    folder = copy_of(issued, tmp_path)
    stop_at(command(folder, weighing(folder, 6500)), folder, "linked", signal.SIGKILL)
    said = unfinished(folder / "MRN-100001_induction_2026-06-01_v2_orders.html")
    assert said.startswith("written by a run stopped at 20") and said.endswith(
        "while issuing version 2 of induction for MRN-100001, day 1 2026-06-01: it was never issued; "
        "the next dosing run that writes into this folder removes it")
    assert unfinished(folder / "MRN-100001_induction_2026-06-01_orders.html") is None


def test_the_web_page_rolls_back_a_stopped_run_and_says_so(tmp_path):
    pytest.importorskip("flask", reason="the web extra is not installed")
    import re
    import tomllib

    from dosing.web import create_app, form_values

    folder = tmp_path / "sheets"
    folder.mkdir()
    stop_at(command(folder), folder, "linked", signal.SIGKILL)  # version 1's two files linked, not recorded
    client = create_app(folder).test_client()
    form = form_values(tomllib.loads(PATIENT.read_text())) | {"sheet.phase": "induction", "sheet.start": "2026-06-01",
                                                              "sheet.documents.orders": "on"}
    token = re.search(r'name="token" value="([^"]+)"', client.get("/").get_data(as_text=True))[1]
    preview = client.post("/", data={**form, "token": token, "action": "preview"}).get_data(as_text=True)
    fingerprint = re.search(r'name="previewed" value="([0-9a-f]{64})"', preview)[1]  # Issue is offered only under a preview
    page = client.post("/", data={**form, "token": token, "action": "issue", "previewed": fingerprint}).get_data(as_text=True)
    assert ("left version 1 of induction for MRN-100001, day 1 2026-06-01 unfinished: removed the files it had written so far "
            "(MRN-100001_induction_2026-06-01_orders.html, MRN-100001_induction_2026-06-01_intrathecal.html); nothing was issued") in page
    assert 'href="/sheets/MRN-100001_induction_2026-06-01_orders.pdf"' in page
    consistent(folder)
