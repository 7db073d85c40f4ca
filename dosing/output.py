"""Writing issued sheets: inside the output folder, never over an earlier one.

A file name is built only from the sanitised patient id, the phase name and
the start date, so no patient file can steer where a sheet is written. An
issued sheet is never overwritten: every file is created exclusively (a hard
link from a finished temporary file, which fails if the name exists), so a
second issue of the same sheet is refused rather than silently replacing the
one a nurse may already hold.
"""

import os
import re
import tempfile
from pathlib import Path

from dosing.errors import InputError


def safe_id(patient_id: str) -> str:
    """The patient id as part of a file name: anything but letters, digits and '-' becomes '_'."""
    return re.sub(r"[^A-Za-z0-9-]+", "_", patient_id).strip("_-")[:64] or "patient"


def safe_stem(patient_id: str, phase: str, start) -> str:
    """'MRN-000123_induction_2026-05-05'."""
    return f"{safe_id(patient_id)}_{phase}_{start.isoformat()}"


class AlreadyIssued(InputError):
    pass


def write_new(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Write `files` (name -> content) into `folder`; refuse if any already exists."""
    folder.mkdir(parents=True, exist_ok=True)
    targets = {folder / name: content for name, content in files.items()}
    for target in targets:
        if target.name != Path(target.name).name or target.parent != folder:
            raise InputError("output", f"refusing to write {target}", "")
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        raise AlreadyIssued(
            "output", f"already issued: {', '.join(existing)}; an issued sheet is never overwritten",
            "keep the issued sheet, or write to another folder with --out",
        )
    written = []
    for target, content in targets.items():
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
            os.link(temporary, target)
        except FileExistsError:
            raise AlreadyIssued("output", f"already issued: {target}; an issued sheet is never overwritten", "") from None
        finally:
            os.unlink(temporary)
        written.append(target)
    return written
