"""The output folder: made ready, locked for one writer at a time, written to durably.

The ground floor of issuing: issuing.py and recovery.py write and remove
files only through these, under `locked`. Files are created with the
folder's normal permissions (0666 less the umask), as any program's files are.
"""

import os
import time
from contextlib import contextmanager
from pathlib import Path

from dosing.errors import InputError

WORKING = ".partial-"  #: hidden working files (and their journals) start so
LOCK_NAME = ".issue-log.lock"  #: taken by every run that writes into the folder
# A run holds the lock for milliseconds (a few files written and linked); a
# minute means the other run is stuck (e.g. a network folder that stopped answering).
LOCK_WAIT_SECONDS = 60


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


def create(path: Path, content: bytes) -> None:
    """A new file with `content`, on the disk before this returns; 0666 less the umask, as any program's files."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(handle, view):]
        os.fsync(handle)
    finally:
        os.close(handle)


def sync(folder: Path) -> None:
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
