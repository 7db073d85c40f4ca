"""Issuing sheets: inside the output folder, never over an earlier one, all or nothing.

The data flow's last step: the documents' bytes in, the files and their
issue log entry out. `issue`, under a lock on the folder (folder.py), one run
at a time:

0. rolls back whatever a stopped run left (recovery.py);
1. writes every document to a hidden `.partial-TOKEN-N` file, flushed to the disk;
2. writes a journal, `.partial-TOKEN.journal`, naming the files about to appear;
3. hard-links each hidden file to its final name (the link fails if the name
   exists, so an issued sheet is never overwritten);
4. records the issue in the issue log: one sqlite transaction, the moment the
   sheet is issued (a write without a log - the blinatumomab resumption - is
   issued when step 5 removes the journal);
5. removes the journal and the hidden files.

A refusal, a failure or a Ctrl-C rolls back at once, as the next run would.

Test hooks (README, *The issue log*): DOSING_TEST_STOP_AT=POINT makes a
writer stop at that named point (it says so on standard error and sleeps),
so a test can kill it there; DOSING_TEST_STEP_SECONDS=S makes it pause S
seconds at every point, so kills at random moments land inside the writing.
"""

import hashlib
import json
import os
import secrets
import sys
import time
from datetime import datetime
from pathlib import Path

from dosing import issue_log
from dosing.errors import InputError
from dosing.output.folder import LOCK_NAME, WORKING, create, locked, ready_folder, sync
from dosing.output.recovery import recover_under_lock, remove_working, roll_back

POINTS = ("locked", "written", "journal", "linked-first", "linked", "recorded", "done")  #: where the test hooks can stop


class AlreadyIssued(InputError):
    pass


class NotIssued(InputError):
    """Another run issued this sheet's version first (the check given to `issue` says so)."""


def write_new(folder: Path, files: dict[str, bytes], what: str = "") -> list[Path]:
    """Write `files` (name -> content) into `folder`, all or none; refuse if any already exists (no issue log)."""
    return issue(folder, files, what=what or "sheets " + ", ".join(files))[0]


def issue(folder: Path, files: dict[str, bytes], *, what: str, check=None, record=None) -> tuple[list[Path], list[str]]:
    """Issue `files` into `folder` all or nothing: (the paths written, what recovery did first).

    `check(log)` runs under the lock before anything is written, and may raise
    to refuse; `record(log)` records the issue (the moment it is issued). With
    neither, no issue log is opened.
    """
    folder = ready_folder(folder)
    for name in files:
        if name != Path(name).name or name.startswith(".") or name in (issue_log.FILE_NAME, LOCK_NAME):
            raise InputError("output", f"refusing to write {folder / name}", "")
    logged = check is not None or record is not None
    with locked(folder):
        said = recover_under_lock(folder)
        log = issue_log.IssueLog(folder) if logged else None
        try:
            if check is not None:
                check(log)
            for name in files:
                if os.path.lexists(folder / name):
                    raise _in_the_way(folder / name, log)
            _reached("locked")
            return _write(folder, files, what, log, record), said
        finally:
            if log is not None:
                log.close()


def _write(folder: Path, files: dict[str, bytes], what: str, log, record) -> list[Path]:
    """Steps 1 to 5 of the module docstring, under the lock."""
    token = secrets.token_hex(6)
    journal = {"started": datetime.now().isoformat(timespec="seconds"), "what": what, "logged": log is not None,
               "files": {}}
    try:
        for number, (name, content) in enumerate(files.items()):
            temporary = f"{WORKING}{token}-{number}"
            create(folder / temporary, content)
            journal["files"][name] = {"temporary": temporary, "sha256": hashlib.sha256(content).hexdigest()}
        _reached("written")
        create(folder / f"{WORKING}{token}.journal-new", json.dumps(journal, indent=1).encode("utf-8"))
        os.replace(folder / f"{WORKING}{token}.journal-new", folder / f"{WORKING}{token}.journal")
        sync(folder)
        _reached("journal")
        written = []
        for name, entry in journal["files"].items():
            try:
                os.link(folder / entry["temporary"], folder / name)
            except FileExistsError:  # a name taken since the check: only a writer that ignores the lock does that
                raise _in_the_way(folder / name, log) from None
            written.append(folder / name)
            if len(written) == 1:
                _reached("linked-first")
        sync(folder)
        _reached("linked")
        if record is not None:
            record(log)
        _reached("recorded")
        (folder / f"{WORKING}{token}.journal").unlink()
        for entry in journal["files"].values():
            (folder / entry["temporary"]).unlink()
        sync(folder)
        _reached("done")
        return written
    except BaseException:
        # Refused, failed or Ctrl-C: undo now, as the next run would (the log decides whether it was issued).
        roll_back(folder, journal, log)
        remove_working(folder, token)
        raise


def _in_the_way(path: Path, log) -> InputError:
    """Why a final file name is taken: an issued sheet (which one), or a file the log does not know."""
    found = log.issued_under(path.name) if log is not None else None
    if found is None and log is not None:
        found = log.issued_under(path.name, any_case=True)
    if found is not None:
        issue, _ = found
        return AlreadyIssued("output", f"already issued: {path} is version {issue.version} of {issue.phase} for {issue.patient_id}, "
                             f"issued {issue.issued_at}; an issued sheet is never overwritten",
                             "keep the issued sheet, or write to another folder with --out")
    if log is None:
        return AlreadyIssued("output", f"already issued: {path}; an issued sheet is never overwritten",
                             "keep the issued sheet, or write to another folder with --out")
    return InputError("output", f"{path} is in the folder but not in its issue log, so it was never issued here "
                      "(left by an older dosing stopped while writing, copied in, or the log was replaced)",
                      "move that file out of the folder (check nobody is giving from it), then run again")


def _reached(point: str) -> None:
    """The test hooks (module docstring): stop or pause at a named point of the writing."""
    if os.environ.get("DOSING_TEST_STOP_AT") == point:
        print(f"dosing: test hook: stopped at {point}", file=sys.stderr, flush=True)
        time.sleep(3600)
    step = os.environ.get("DOSING_TEST_STEP_SECONDS")
    if step:
        time.sleep(float(step))
