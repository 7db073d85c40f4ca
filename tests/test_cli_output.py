"""What `dosing sheet` prints, as real processes: through pipes, on a real terminal, stopped, and with its printer killed.

Standard output: the files written, one a line, each patient's as soon as they
are written. Standard error: on a terminal only, one progress line; then the
report: the warnings every patient shares once, each patient's own under its
file and identity, refusals in their place, a summary. The warnings' words are
the JSON orders' own (`warnings`), so nothing is reworded.
"""

import errno
import gc
import json
import os
import pty
import signal
import subprocess
import sys
import weakref
from datetime import date
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, TODAY

ENV = {**os.environ, "DOSING_TODAY": TODAY, "PYTHONPATH": str(ROOT), "COLUMNS": "150"}
SHEET = ["--phase", "induction", "--start", "2026-06-01"]
PATIENTS = [EXAMPLES / "standard-risk.toml", EXAMPLES / "turns-one-year.toml", EXAMPLES / "sr-moves-to-high-risk.toml"]
IDS = {"standard-risk": "MRN-100001, Petrov, Mikhail", "turns-one-year": "MRN-100004, Novak, Sara",
       "sr-moves-to-high-risk": "MRN-100006, Ivanov, Lev"}
UNVERIFIED = "Reference values: the regimen has not been verified against the protocol document by a pharmacist of the treating centre."
DRAFT = "DRAFT: the orders use placeholder values (placeholder: nothing published was found)."


def command(*patients, out, fmt="html", documents="orders,intrathecal"):
    return [sys.executable, "-m", "dosing", "sheet", *map(str, patients), *SHEET, "--format", fmt, "--out", str(out),
            "--documents", documents]


def warnings_of(patient: Path) -> list[str]:
    """The patient's warnings as the JSON orders list them: the words the report must use."""
    done = subprocess.run([sys.executable, "-m", "dosing", "sheet", str(patient), *SHEET, "--format", "json"],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, check=True)
    return json.loads(done.stdout)["warnings"]


def files(out: Path, patient_id: str, kinds=("orders", "intrathecal"), suffix="html") -> list[str]:
    return [str(out / f"{patient_id}_induction_2026-06-01_{kind}.{suffix}") for kind in kinds]


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bad") / "no-unit.toml"
    path.write_text((EXAMPLES / "standard-risk.toml").read_text().replace('weight = "6.4 kg"', "weight = 6.4"))
    return path


@pytest.fixture(scope="module")
def piped(tmp_path_factory, bad):
    """Two patients, one refused file between them, and a third: through pipes, as a script runs it."""
    out = tmp_path_factory.mktemp("piped") / "sheets"
    done = subprocess.run(command(PATIENTS[0], bad, *PATIENTS[1:], out=out), capture_output=True, text=True, env=ENV, cwd=ROOT)
    return out, done


def test_standard_output_is_the_files_written_in_the_order_given(piped):
    out, done = piped
    assert done.returncode == 3  # a patient was refused: as before
    assert done.stdout.splitlines() == [*files(out, "MRN-100001"), *files(out, "MRN-100004"), *files(out, "MRN-100006")]
    assert sorted(p.name for p in out.glob("*.html")) == sorted(Path(p).name for p in done.stdout.splitlines())


def test_not_a_terminal_no_progress_at_all(piped):
    _, done = piped
    assert "\r" not in done.stderr and "dosing: patients" not in done.stderr and "laid out" not in done.stderr


def test_each_patient_under_its_file_and_identity_banners_once_and_a_summary(piped, bad):
    _, done = piped
    lines = done.stderr.splitlines()
    words = {p.stem: warnings_of(p) for p in PATIENTS}
    # Every patient's sheets carry the unverified and DRAFT banners: said once for the run, before the patients.
    assert all(UNVERIFIED in w and DRAFT in w for w in words.values())
    assert done.stderr.count(UNVERIFIED) == 1 and done.stderr.count(DRAFT) == 1
    assert lines[:3] == ["Warnings for every patient of this run (on their sheets too):", f"  warning: {UNVERIFIED}", f"  warning: {DRAFT}"]
    expected = lines[:3]
    refusal = (f"dosing: refused: {bad}: measurements[1].weight: the number 6.4 has no unit; "
               'write it with its unit in quotes, e.g. weight = "6.2 kg"')
    own = {}
    for number, patient in enumerate(PATIENTS):
        own[patient.stem] = [w for w in words[patient.stem] if w not in (UNVERIFIED, DRAFT)]
        assert own[patient.stem], patient  # each has warnings of its own, so the test shows them grouped
        expected.append(f"{patient} ({IDS[patient.stem]}): 2 sheets written, "
                        f"{len(own[patient.stem])} other warning{'s' if len(own[patient.stem]) > 1 else ''}:")
        expected += [f"  warning: {w}" for w in own[patient.stem]]
        if number == 0:
            expected.append(refusal)  # the refused file in its place, with the field and the fix
    expected += [
        "Summary: 6 sheets written for 3 of 4 patients; 1 refused.",
        "  warnings per patient (besides the 2 for every patient): "
        + ", ".join(f"{IDS[p.stem].split(',')[0]} {len(own[p.stem])}" for p in PATIENTS),
        f"  refused: {bad}: measurements[1].weight: the number 6.4 has no unit",
    ]
    assert lines == expected
    assert done.stderr.count("dosing: refused:") == 1  # a script counting refusals counts each once


def test_one_patient_all_its_warnings_under_it_and_no_summary(tmp_path):
    out = tmp_path / "sheets"
    done = subprocess.run(command(PATIENTS[0], out=out), capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert done.returncode == 0
    words = warnings_of(PATIENTS[0])
    assert done.stderr.splitlines() == [
        f"{PATIENTS[0]} ({IDS['standard-risk']}): 2 sheets written, {len(words)} warnings:",
        *(f"  warning: {w}" for w in words)]


def test_one_refused_patient_is_one_line(tmp_path, bad):
    done = subprocess.run(command(bad, out=tmp_path / "sheets"), capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr.splitlines() == [f"dosing: refused: {bad}: measurements[1].weight: the number 6.4 has no unit; "
                                        'write it with its unit in quotes, e.g. weight = "6.2 kg"']


# -- on a real terminal ----------------------------------------------------------------------------


def on_terminal(arguments) -> tuple[int, bytes]:
    """Run with standard output and standard error on a new pseudo-terminal, as a pharmacist's; every byte it wrote."""
    main, child = pty.openpty()
    process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=child, stderr=child, env=ENV, cwd=ROOT)
    os.close(child)
    written = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError as exc:  # EIO: the terminal's other side is closed, the command has ended
            assert exc.errno == errno.EIO
            break
        if not chunk:
            break
        written += chunk
    os.close(main)
    return process.wait(timeout=300), written


def screen(written: bytes) -> list[str]:
    """The lines a terminal shows at the end: a carriage return goes back to the line's start and overwrites."""
    shown = []
    for line in written.decode("utf-8").replace("\r\n", "\n").split("\n"):
        cells, column = [], 0
        for character in line:
            if character == "\r":
                column = 0
                continue
            cells[column:column + 1] = [character]
            column += 1
        shown.append("".join(cells).rstrip())
    return shown[:-1] if shown and shown[-1] == "" else shown


def test_on_a_terminal_one_updating_line_then_the_same_report(piped, tmp_path, bad):
    _, through_pipes = piped
    out = tmp_path / "sheets"
    status, written = on_terminal(command(PATIENTS[0], bad, *PATIENTS[1:], out=out, fmt="pdf", documents="orders"))
    assert status == 3
    text = written.decode("utf-8")
    # The line, rewritten in place: from nothing done to every patient and document.
    assert "\rdosing: patients 0 of 4 done" in text
    assert "\rdosing: patients 4 of 4 done, documents 3 of 3 laid out, " in text
    # What stays on the screen: each file as written, then the report a pipe gets; no progress left, nothing garbled.
    report = through_pipes.stderr.replace("2 sheets written", "1 sheet written").replace("6 sheets written", "3 sheets written")
    assert screen(written) == [*(str(out / f"{i}_induction_2026-06-01_orders.pdf") for i in ("MRN-100001", "MRN-100004", "MRN-100006")),
                               *report.splitlines()]


# -- each patient written as soon as its PDFs are back ------------------------------------------------


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_the_first_patients_pdfs_are_written_while_the_others_are_made(tmp_path):
    out = tmp_path / "sheets"
    process = subprocess.Popen(command(*PATIENTS, out=out, fmt="pdf", documents="orders"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    first = process.stdout.readline().strip()
    still_working = process.poll() is None
    assert first == files(out, "MRN-100001", ("orders",), "pdf")[0] and Path(first).read_bytes().startswith(b"%PDF")
    assert still_working  # two more patients to lay out: written before the run ends, not all at the end
    rest, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert rest.split() == files(out, "MRN-100004", ("orders",), "pdf") + files(out, "MRN-100006", ("orders",), "pdf")


def test_the_printer_killed_mid_batch_each_patient_written_or_said(tmp_path):
    out = tmp_path / "sheets"
    process = subprocess.Popen(command(*PATIENTS, out=out, fmt="pdf", documents="orders"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    first = process.stdout.readline().strip()
    (printer,) = children(process.pid)
    os.kill(printer, signal.SIGKILL)
    rest, err = process.communicate(timeout=120)
    assert process.returncode == 3 and "Traceback" not in err and "internal error" not in err, err
    written = [first, *rest.split()]
    stopped = [line for line in err.splitlines() if line.startswith("dosing: refused: ")]
    assert stopped  # the last patient at least was still in the printer
    for patient, patient_id in zip(PATIENTS, ("MRN-100001", "MRN-100004", "MRN-100006")):
        (pdf,) = files(out, patient_id, ("orders",), "pdf")
        said = f"dosing: refused: {patient}: no sheet was written for this patient: the PDF printer process stopped"
        if pdf in written:
            assert Path(pdf).read_bytes().startswith(b"%PDF") and not any(s.startswith(said) for s in stopped)
        else:
            assert not Path(pdf).exists() and any(s.startswith(said) and s.endswith("; run the command again for this patient")
                                                  for s in stopped), err
    assert f"Summary: {len(written)} sheet{'s' if len(written) > 1 else ''} written for {len(written)} of 3 patients; " \
           f"{len(stopped)} refused." in err


def test_stopped_with_ctrl_c_what_was_written_is_still_said(tmp_path):
    out = tmp_path / "sheets"
    # Each step of the writing paused, so the interrupt lands while the second patient is being made.
    process = subprocess.Popen(command(*PATIENTS, out=out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**ENV, "DOSING_TEST_STEP_SECONDS": "0.3"}, cwd=ROOT)
    first = [process.stdout.readline().strip() for _ in range(2)]
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in err, err
    assert first == files(out, "MRN-100001") and rest == ""
    assert sorted(p.name for p in out.glob("*.html")) == sorted(Path(p).name for p in first)  # the second rolled back
    assert f"{PATIENTS[0]} ({IDS['standard-risk']}): 2 sheets written" in err
    assert "Summary: 2 sheets written for 1 of 3 patients; none refused. 2 not done: the run was stopped before them." in err


# -- in-process: at most two patients in flight, each dropped once written ------------------------------


class Recorder:
    """A printer that records what it is sent and when it is asked, and hands back one small PDF per document."""

    def __init__(self, events):
        self.events, self.sent = events, []

    def submit(self, htmls):
        self.sent.append(len(htmls))
        self.events.append(("submit", len(self.sent)))

    def results(self):
        answered = 0
        while answered < len(self.sent):
            answered += 1
            self.events.append(("laid out", answered))
            yield [b"%PDF-1.7 stand-in" for _ in range(self.sent[answered - 1])]


class Watcher:
    def __init__(self, events):
        self.events = events

    def update(self, **_):
        pass

    def say(self, text, stream):
        if text.endswith("_orders.pdf"):
            self.events.append(("written", Path(text).name.split("_")[0]))


def test_the_next_patient_is_sent_before_the_last_is_waited_for_and_none_is_kept(tmp_path, monkeypatch):
    from dosing import issuing
    from dosing.cli.batch import issue
    from dosing.cli.report import Report
    from dosing.regimen import load_phase, load_protocol
    from dosing.requests import Request

    patients = [*PATIENTS, EXAMPLES / "turns-six-months.toml"]
    prepared, events = [], []
    real = issuing.prepare

    def prepare(*args, **kwargs):
        gc.collect()
        events.append(("prepare", len(prepared) + 1, sum(ref() is not None for ref in prepared)))
        pending = real(*args, **kwargs)
        prepared.append(weakref.ref(pending))
        return pending

    monkeypatch.setattr(issuing, "prepare", prepare)
    protocol = load_protocol()
    request = Request(start=date(2026, 6, 1), out=tmp_path, format="pdf", documents=frozenset({"orders", "intrathecal"}))
    report = Report(len(patients))
    issue(patients, protocol, load_phase(protocol, "induction"), request, Recorder(events), report, Watcher(events))
    assert events == [
        ("prepare", 1, 0), ("submit", 1),
        ("prepare", 2, 1), ("submit", 2), ("laid out", 1), ("written", "MRN-100001"),
        # patient 1 is gone (nothing of it kept) before patient 3 is computed; patient 2 is with the printer
        ("prepare", 3, 1), ("submit", 3), ("laid out", 2), ("written", "MRN-100004"),
        ("prepare", 4, 1), ("submit", 4), ("laid out", 3), ("written", "MRN-100006"),
        ("laid out", 4), ("written", "MRN-100003"),
    ]
    gc.collect()
    assert all(ref() is None for ref in prepared)
    assert [(p.identity.split(",")[0], p.written) for p in report.patients] == [
        ("MRN-100001", 2), ("MRN-100004", 2), ("MRN-100006", 2), ("MRN-100003", 2)]


# -- blinatumomab-resume: the same printer and progress line ----------------------------------------


def test_a_resumption_on_a_terminal_and_through_a_pipe(tmp_path):
    resume = [sys.executable, "-m", "dosing", "blinatumomab-resume", str(EXAMPLES / "kmt2a-rearranged.toml"), "--start", "2026-07-06",
              "--infusion-start", "10:00", "--stopped", "2026-07-10 16:00", "--restart", "2026-07-11 08:00",
              "--override-pathway", "blinatumomab test for this infant",
              "--override-dates", "hand-worked test: the measurement at diagnosis for every course"]
    status, written = on_terminal([*resume, "--out", str(tmp_path / "terminal")])
    assert status == 0, written
    text = written.decode("utf-8")
    assert "\rdosing: patients 0 of 1 done" in text and "\rdosing: patients 1 of 1 done, documents 2 of 2 laid out, " in text
    made = sorted((tmp_path / "terminal").glob("*.pdf"))
    assert len(made) == 2 and all(p.read_bytes().startswith(b"%PDF") for p in made)
    piped = subprocess.run([*resume, "--out", str(tmp_path / "piped")], capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert piped.returncode == 0 and "\r" not in piped.stderr and piped.stderr.startswith("note: ")
    # On the screen: the files as written, then the notes a pipe gets, nothing of the progress line left.
    assert screen(written) == [*(line.replace("/piped/", "/terminal/") for line in piped.stdout.splitlines()), *piped.stderr.splitlines()]
