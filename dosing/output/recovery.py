"""Rolling back what a stopped run left in the output folder.

A run stopped anywhere (kill -9, Ctrl-C, a power cut) leaves a journal
(issuing.py writes it before any final name appears). The next run in the
folder takes the lock, so every journal it finds belongs to a run that is no
longer running, and rolls it back: the files it names are removed unless the
issue log holds them (then the sheet was issued and only the hidden files go),
and the run says what it did. issuing.py calls this under its lock before
writing; `dosing verify` asks `unfinished` why a file the log lacks is there.
"""

import json
import os
from pathlib import Path

from dosing import issue_log
from dosing.output.folder import WORKING, locked, ready_folder, sync


def recover(folder: Path) -> list[str]:
    """Roll back whatever an interrupted run left in `folder`, under the lock: what was done, a sentence each."""
    folder = Path(folder)
    if not folder.is_dir() or not any(folder.glob(WORKING + "*")):
        return []
    with locked(ready_folder(folder)):
        return recover_under_lock(folder)


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


def recover_under_lock(folder: Path) -> list[str]:
    """Every journal in the folder is a run that stopped (the caller holds the lock): roll each back."""
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
            removed = roll_back(folder, journal, log)
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
        sync(folder)
    return said


def roll_back(folder: Path, journal: dict, log) -> list[str] | None:
    """Remove the files a stopped run linked, unless the log shows it issued them: the names removed (None: issued)."""
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


def remove_working(folder: Path, token: str) -> None:
    """The hidden working files and journal of the run `token`."""
    for path in folder.glob(f"{WORKING}{token}*"):
        path.unlink(missing_ok=True)
