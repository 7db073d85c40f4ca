"""Opening the issue log file, and reading it safely.

Below store.py (which opens every log through `connect`): a damaged or
foreign file is a refusal that names it and says what to do, never "internal
error". A UNIQUE clash (two issues at once) or a locked file is not damage:
those errors pass through as they are.
"""

import sqlite3
from datetime import date, datetime
from pathlib import Path

from dosing.errors import InputError

FILE_NAME = "issue-log.sqlite"  #: the log's file, beside the sheets it records

DAMAGE = ("file is not a database", "malformed", "no such table", "no such column", "file is encrypted")


def well_formed(fields: list) -> None:
    """An entry as dosing writes it, or ValueError saying which field is not (what the code reading it relies on)."""
    (issue_id, issued_at, patient_id, phase, start, version, replaces, changes_, tool_version, inputs_sha256, inputs, regimen_sha256,
     options, orders) = fields
    datetime.fromisoformat(issued_at)
    date.fromisoformat(start)
    kinds = ((issue_id, int, "id"), (version, int, "version"), (patient_id, str, "patient_id"), (phase, str, "phase"),
             (changes_, str, "changes"), (inputs, bytes, "inputs"), (options, dict, "options"), (orders, dict, "orders"))
    for value, kind, name in kinds:
        if not isinstance(value, kind):
            raise ValueError(f"{name} is not {kind.__name__}")
    if replaces is not None and not isinstance(replaces, int):
        raise ValueError("replaces is not an entry id")
    missing = {"window", "infusion_start", "override", "bag_hours"} - set(options)
    if missing:
        raise ValueError(f"options lack {', '.join(sorted(missing))}")
    if not isinstance(orders.get("weight_kg"), (int, float)) or not isinstance(orders.get("administrations"), list):
        raise ValueError("orders lack the weight or the administrations")
    for a in orders["administrations"]:
        if not isinstance(a, dict) or not {"drug", "route", "day", "unit", "dose"} <= set(a):
            raise ValueError("an administration lacks its drug, route, day, unit or dose")


def damaged(path: Path, exc: Exception) -> InputError:
    return InputError(str(path), f"is not a readable issue log ({exc}): it may have been damaged",
                      "do not issue into this folder; restore the log from backup, or issue into a new folder")


class Checked(sqlite3.Connection):
    """A connection to a log that turns damage into a clear refusal (`path` is set after connecting)."""

    path: Path = Path(FILE_NAME)

    def execute(self, *args):
        try:
            return super().execute(*args)
        except sqlite3.DatabaseError as exc:
            raise self._refusal(exc) from None

    def executemany(self, *args):
        try:
            return super().executemany(*args)
        except sqlite3.DatabaseError as exc:
            raise self._refusal(exc) from None

    def executescript(self, *args):
        try:
            return super().executescript(*args)
        except sqlite3.DatabaseError as exc:
            raise self._refusal(exc) from None

    read_only: bool = False

    def _refusal(self, exc):
        if isinstance(exc, sqlite3.IntegrityError):
            return exc
        if any(words in str(exc) for words in DAMAGE):
            return damaged(self.path, exc)
        if self.read_only:  # verify: a log another run holds, or one a stopped run left half-written (sqlite's journal)
            return InputError(str(self.path), f"cannot be read now ({exc})",
                              "wait for any issue into this folder to end and verify again; if it still cannot be read, restore the log "
                              "from backup")
        return exc


def connect(path: Path, read_only: bool = False) -> Checked:
    """Open the log; read_only never creates or changes it (verify)."""
    where = f"{Path(path).resolve().as_uri()}?mode=ro" if read_only else str(path)
    try:
        db = sqlite3.connect(where, uri=read_only, factory=Checked)
    except sqlite3.DatabaseError as exc:
        raise damaged(path, exc) from None
    db.path, db.read_only = Path(path), read_only
    return db
