"""Writing issued sheets: inside the output folder, never over an earlier one, all or nothing.

A file name is built only from the patient id, the phase name and the start
date, so no patient file can steer where a sheet is written. The id part is
the id itself when it is plain (letters, digits and inner '-', at most 64
characters); any other id is cleaned and cut, and gets '_' and 8 characters
of its SHA-256, so two ids never share a file name (`MRN/7` -> `MRN_7_…`,
`MRN_7` -> `MRN_7_…` with another hash).

Issuing is all or nothing (`issue`). Under a lock on the folder, one run at a
time:

1. every document is written to a hidden `.partial-TOKEN-N` file and flushed
   to the disk;
2. a journal, `.partial-TOKEN.journal`, names the files about to appear;
3. each hidden file is hard-linked to its final name (the link fails if the
   name exists, so an issued sheet is never overwritten);
4. the issue is recorded in the issue log: one sqlite transaction, the moment
   the sheet is issued (a write without a log - the blinatumomab resumption -
   is issued when step 5 removes the journal);
5. the journal and the hidden files are removed.

A run stopped anywhere (kill -9, Ctrl-C, a power cut) leaves a journal. The
next run in the folder takes the lock, so every journal it finds belongs to
a run that is no longer running, and `recover` rolls it back: the files it
names are removed unless the log holds them (then the sheet was issued and
only the hidden files go), and the run says what it did. A Ctrl-C rolls back
at once. Files are created with the folder's normal permissions (0666 less
the umask), as any program's files are.

Test hooks (README, *The issue log*): DOSING_TEST_STOP_AT=POINT makes a
writer stop at that named point (it says so on standard error and sleeps),
so a test can kill it there; DOSING_TEST_STEP_SECONDS=S makes it pause S
seconds at every point, so kills at random moments land inside the writing.
"""

import hashlib
import json
import os
import re
import secrets
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from dosing.errors import InputError

WORKING = ".partial-"  #: hidden working files (and their journals) start so
LOCK_NAME = ".issue-log.lock"  #: taken by every run that writes into the folder
# A run holds the lock for milliseconds (a few files written and linked); a
# minute means the other run is stuck (e.g. a network folder that stopped answering).
LOCK_WAIT_SECONDS = 60
POINTS = ("locked", "written", "journal", "linked-first", "linked", "recorded", "done")  #: where the test hooks can stop


def safe_id(patient_id: str) -> str:
    """The patient id as part of a file name: the id itself when plain, else cleaned, cut and tagged with its hash.

    Plain: letters, digits and '-' (not at either end), at most 64 characters.
    Anything else becomes '_', and the id part ends in '_' + 8 hex digits of the
    exact id's SHA-256. A plain id never holds '_', so it never meets a tagged one.
    """
    if len(patient_id) <= 64 and re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?", patient_id):
        return patient_id
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "_", patient_id).strip("_-")[:55].rstrip("_-") or "patient"
    return f"{cleaned}_{hashlib.sha256(patient_id.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def safe_stem(patient_id: str, phase: str, start) -> str:
    """'MRN-000123_induction_2026-05-05'."""
    return f"{safe_id(patient_id)}_{phase}_{start.isoformat()}"


class AlreadyIssued(InputError):
    pass


class NotIssued(InputError):
    """Another run issued this sheet's version first (the check given to `issue` says so)."""


def ready_folder(folder: Path) -> Path:
    """The --out folder, made if missing; a message naming --out when it cannot be."""
    folder = Path(folder)
    fix = "give --out a folder you can write in (it is made if missing)"
    if folder.exists() and not folder.is_dir():
        raise InputError("--out", f"{folder} is a file, not a folder", fix)
    ancestor = next((p for p in folder.parents if p.exists()), None)
    if ancestor is not None and not ancestor.is_dir():
        raise InputError("--out", f"{ancestor} is a file, so the folder {folder} cannot be made", fix)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("--out", f"the folder {folder} cannot be made ({exc.strerror})", fix) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError("--out", f"the folder {folder} cannot be written in (permission denied)", fix)
    return folder


def write_new(folder: Path, files: dict[str, bytes], what: str = "") -> list[Path]:
    """Write `files` (name -> content) into `folder`, all or none; refuse if any already exists (no issue log)."""
    return issue(folder, files, what=what or "sheets " + ", ".join(files))[0]


def issue(folder: Path, files: dict[str, bytes], *, what: str, check=None, record=None) -> tuple[list[Path], list[str]]:
    """Issue `files` into `folder` all or nothing: (the paths written, what recovery did first).

    `check(log)` runs under the lock before anything is written, and may raise
    to refuse; `record(log)` records the issue (the moment it is issued). With
    neither, no issue log is opened.
    """
    from dosing import issue_log

    folder = ready_folder(folder)
    for name in files:
        if name != Path(name).name or name.startswith(".") or name in (issue_log.FILE_NAME, LOCK_NAME):
            raise InputError("output", f"refusing to write {folder / name}", "")
    logged = check is not None or record is not None
    with locked(folder):
        said = _recover(folder)
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


def recover(folder: Path) -> list[str]:
    """Roll back whatever an interrupted run left in `folder`, under the lock: what was done, a sentence each."""
    folder = Path(folder)
    if not folder.is_dir() or not any(folder.glob(WORKING + "*")):
        return []
    with locked(ready_folder(folder)):
        return _recover(folder)


def unfinished(path: Path) -> str | None:
    """Why a file the log does not hold is there, when a stopped run's journal names it (for `dosing verify`); else None."""
    path = Path(path)
    for journal in path.parent.glob(WORKING + "*.journal"):
        try:
            entry = json.loads(journal.read_bytes())
            if path.name in entry["files"]:
                return (f"written by a run stopped at {entry['started'].replace('T', ' ')[:16]} while issuing {entry['what']}: "
                        "it was never issued; the next dosing run that writes into this folder removes it")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return None


def _write(folder: Path, files: dict[str, bytes], what: str, log, record) -> list[Path]:
    token = secrets.token_hex(6)
    journal = {"started": datetime.now().isoformat(timespec="seconds"), "what": what, "logged": log is not None,
               "files": {}}
    try:
        for number, (name, content) in enumerate(files.items()):
            temporary = f"{WORKING}{token}-{number}"
            _create(folder / temporary, content)
            journal["files"][name] = {"temporary": temporary, "sha256": hashlib.sha256(content).hexdigest()}
        _reached("written")
        _create(folder / f"{WORKING}{token}.journal-new", json.dumps(journal, indent=1).encode("utf-8"))
        os.replace(folder / f"{WORKING}{token}.journal-new", folder / f"{WORKING}{token}.journal")
        _sync(folder)
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
        _sync(folder)
        _reached("linked")
        if record is not None:
            record(log)
        _reached("recorded")
        (folder / f"{WORKING}{token}.journal").unlink()
        for entry in journal["files"].values():
            (folder / entry["temporary"]).unlink()
        _sync(folder)
        _reached("done")
        return written
    except BaseException:
        # Refused, failed or Ctrl-C: undo now, as the next run would (the log decides whether it was issued).
        _roll_back(folder, journal, log)
        _remove_working(folder, token)
        raise


def _recover(folder: Path) -> list[str]:
    """Every journal in the folder is a run that stopped (the caller holds the lock): roll each back."""
    from dosing import issue_log

    said, journals = [], sorted(folder.glob(WORKING + "*.journal"))
    for path in journals:
        try:
            journal = json.loads(path.read_bytes())
            when, what, logged = journal["started"].replace("T", " ")[:16], journal["what"], journal["logged"]
            dict(journal["files"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # not a journal this program wrote; removed with the other working files below
        log = issue_log.IssueLog(folder) if logged else None
        try:
            removed = _roll_back(folder, journal, log)
        finally:
            if log is not None:
                log.close()
        path.unlink()
        if removed is None:
            said.append(f"a run stopped at {when} after it issued {what}, before it removed its hidden working files: "
                        "removed them (the sheet stands as issued)")
        else:
            done = f"removed the files it had written so far ({', '.join(removed)})" if removed else "none of its files had appeared"
            said.append(f"a run interrupted at {when} left {what} unfinished: {done}; nothing was issued")
    leftovers = [p for p in folder.glob(WORKING + "*") if p.is_file() or p.is_symlink()]
    for path in leftovers:
        path.unlink(missing_ok=True)
    if leftovers and not journals:
        said.append(f"removed {len(leftovers)} hidden working file{'s' if len(leftovers) != 1 else ''} of a run stopped before "
                    "it issued anything")
    if leftovers or journals:
        _sync(folder)
    return said


def _roll_back(folder: Path, journal: dict, log) -> list[str] | None:
    """Remove the files a stopped run linked, unless the log shows it issued them: the names removed (None: issued)."""
    from dosing import issue_log

    entries = journal["files"]
    if log is not None and entries and all(_recorded(log, name, entry["sha256"]) for name, entry in entries.items()):
        return None  # recorded: issued; only its working files are left
    removed = []
    for name, entry in entries.items():
        path = folder / name
        try:
            if path.is_file() and not path.is_symlink() and issue_log.sha256(path.read_bytes()) == entry["sha256"] \
                    and (log is None or not _recorded(log, name, entry["sha256"])):
                # Only the stopped run's own file: the same content, and a link to its hidden file when that is still there.
                temporary = folder / entry["temporary"]
                if not temporary.exists() or os.path.samefile(temporary, path):
                    path.unlink()
                    removed.append(name)
        except OSError:
            continue
    return removed


def _recorded(log, name: str, digest: str) -> bool:
    found = log.issued_under(name)
    return found is not None and found[1] == digest


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


def _remove_working(folder: Path, token: str) -> None:
    for path in folder.glob(f"{WORKING}{token}*"):
        path.unlink(missing_ok=True)


def _create(path: Path, content: bytes) -> None:
    """A new file with `content`, on the disk before this returns; 0666 less the umask, as any program's files."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(handle, view):]
        os.fsync(handle)
    finally:
        os.close(handle)


def _sync(folder: Path) -> None:
    """Make the folder's new and removed names durable (POSIX; elsewhere the file system does it)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


@contextmanager
def locked(folder: Path):
    """One writer at a time in `folder` (processes and the web page's threads alike); released when the process ends, however."""
    path = Path(folder) / LOCK_NAME
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        handle = os.open(path, os.O_RDONLY)  # created by another user: a lock needs only reading
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while not _try_lock(handle):
            if time.monotonic() > deadline:
                raise InputError("--out", f"another dosing run has been writing into {folder} for over {LOCK_WAIT_SECONDS} seconds",
                                 "wait for it to finish (or stop it), then run again")
            time.sleep(0.02)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _try_lock(handle: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(handle, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # flock, not lockf: threads of one process exclude each other too
        return True
    except BlockingIOError:
        return False


def _reached(point: str) -> None:
    """The test hooks (module docstring): stop or pause at a named point of the writing."""
    if os.environ.get("DOSING_TEST_STOP_AT") == point:
        print(f"dosing: test hook: stopped at {point}", file=sys.stderr, flush=True)
        time.sleep(3600)
    step = os.environ.get("DOSING_TEST_STEP_SECONDS")
    if step:
        time.sleep(float(step))
