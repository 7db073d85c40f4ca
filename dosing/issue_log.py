"""The issue log: every sheet issued, kept beside the sheets in issue-log.sqlite.

For each issue: when, the patient file (its hash and a copy), the regimen
data (its hash), the options, the tool version, the orders as computed, and
the hash of each file written. Issuing the same phase again with something
changed makes a new numbered version that names the version it replaces and
what changed; the older files stay as they were. Issuing it again with
nothing changed is refused: the sheet already issued stands.
"""

import hashlib
import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path

import attrs

from dosing.formatting import number

FILE_NAME = "issue-log.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS issues (
    id INTEGER PRIMARY KEY,
    issued_at TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    start TEXT NOT NULL,
    version INTEGER NOT NULL,
    replaces INTEGER REFERENCES issues(id),
    changes TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    inputs_sha256 TEXT NOT NULL,
    inputs BLOB NOT NULL,
    regimen_sha256 TEXT NOT NULL,
    options TEXT NOT NULL,
    orders TEXT NOT NULL,
    UNIQUE (patient_id, phase, start, version)
);
CREATE TABLE IF NOT EXISTS files (
    issue_id INTEGER NOT NULL REFERENCES issues(id),
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL
);
"""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def regimen_hash(directory: Path) -> str:
    """One hash over every regimen data file, so a change to any of them shows."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*.toml") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@attrs.frozen
class Issue:
    id: int
    issued_at: str
    patient_id: str
    phase: str
    start: str
    version: int
    replaces: int | None
    changes: str
    tool_version: str
    inputs_sha256: str
    inputs: bytes
    regimen_sha256: str
    options: dict
    orders: dict


class IssueLog:
    def __init__(self, folder: Path):
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.path = Path(folder) / FILE_NAME
        try:  # made as any program's files are (0666 less the umask), not sqlite's 0644, so a shared folder's group can issue too
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            pass
        self.db = sqlite3.connect(self.path)
        self.db.executescript(SCHEMA)

    def close(self):
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _issue(self, row) -> Issue:
        fields = list(row)
        fields[12], fields[13] = json.loads(fields[12]), json.loads(fields[13])
        return Issue(*fields)

    def latest(self, patient_id: str, phase: str, start: str) -> Issue | None:
        row = self.db.execute(
            "SELECT * FROM issues WHERE patient_id = ? AND phase = ? AND start = ? ORDER BY version DESC LIMIT 1",
            (patient_id, phase, start)).fetchone()
        return self._issue(row) if row else None

    def later(self, issue: Issue) -> list[Issue]:
        """The versions issued after `issue` for the same patient, phase and start, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM issues WHERE patient_id = ? AND phase = ? AND start = ? AND version > ? ORDER BY version",
            (issue.patient_id, issue.phase, issue.start, issue.version)).fetchall()
        return [self._issue(row) for row in rows]

    def last_for_patient(self, patient_id: str) -> Issue | None:
        row = self.db.execute("SELECT * FROM issues WHERE patient_id = ? ORDER BY id DESC LIMIT 1", (patient_id,)).fetchone()
        return self._issue(row) if row else None

    def by_file(self, name: str, digest: str) -> Issue | None:
        row = self.db.execute(
            "SELECT issues.* FROM issues JOIN files ON files.issue_id = issues.id WHERE files.name = ? AND files.sha256 = ?",
            (name, digest)).fetchone()
        return self._issue(row) if row else None

    def issued_under(self, name: str, any_case: bool = False) -> tuple[Issue, str] | None:
        """The issue that wrote a file of this name, and the file's recorded SHA-256 (dosing.output's checks).

        `any_case`: a name differing only in upper/lower case, which a folder on
        a case-blind file system (Windows, macOS) holds as the same file.
        """
        row = self.db.execute(
            "SELECT issues.*, files.sha256 FROM issues JOIN files ON files.issue_id = issues.id WHERE files.name = ?"
            + (" COLLATE NOCASE" if any_case else "") + " ORDER BY issues.id DESC LIMIT 1", (name,)).fetchone()
        return (self._issue(row[:-1]), row[-1]) if row else None

    def recent_files(self, limit: int = 40) -> list[dict]:
        """The files of the latest issues, newest first: what a pharmacist may want to open or verify."""
        rows = self.db.execute(
            "SELECT files.name, issues.patient_id, issues.phase, issues.start, issues.version, issues.issued_at"
            " FROM files JOIN issues ON files.issue_id = issues.id ORDER BY issues.id DESC, files.rowid LIMIT ?", (limit,)).fetchall()
        keys = ("name", "patient_id", "phase", "start", "version", "issued_at")
        return [dict(zip(keys, row)) for row in rows]

    def record(self, *, patient_id, phase, start, version, replaces, changes, tool_version, inputs, regimen_sha256,
               options, orders, files: dict[str, bytes]) -> int:
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO issues (issued_at, patient_id, phase, start, version, replaces, changes, tool_version, inputs_sha256,"
                " inputs, regimen_sha256, options, orders) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (datetime.now().isoformat(timespec="seconds"), patient_id, phase, start, version, replaces, changes, tool_version,
                 sha256(inputs), inputs, regimen_sha256, json.dumps(options, sort_keys=True), json.dumps(orders, sort_keys=True)))
            self.db.executemany("INSERT INTO files (issue_id, name, sha256) VALUES (?, ?, ?)",
                                [(cursor.lastrowid, name, sha256(content)) for name, content in files.items()])
            return cursor.lastrowid


def changes(previous: Issue, inputs: bytes, regimen_sha256: str, options: dict, orders: dict, names: dict | None = None) -> list[str]:
    """What differs from the previous version, in words a pharmacist can check: every line, never cut short.

    `names` maps a drug's generic name to the name the sheet prints (Tall Man:
    vinCRIStine, DAUNOrubicin), so the list reads as the sheet does.
    """
    found = []
    if sha256(inputs) != previous.inputs_sha256:
        found.append("the patient file changed")
    for key, label, unit in (("weight_kg", "weight", "kg"), ("length_cm", "length", "cm"), ("bsa_m2", "BSA", "m²")):
        if previous.orders.get(key) != orders.get(key):
            found.append(f"{label} {previous.orders.get(key)} {unit} -> {orders.get(key)} {unit}")
    if regimen_sha256 != previous.regimen_sha256:
        found.append("the regimen data changed")
    # An option a log written by an older dosing lacks reads as None there, as it does here when not given.
    changed = sorted(k for k in set(options) | set(previous.options) if options.get(k) != previous.options.get(k))
    if changed:
        found.append("options changed: " + ", ".join(f"{k} {previous.options.get(k)} -> {options.get(k)}" for k in changed))
    doses = dose_changes(previous.orders, orders, names or {})
    if doses:
        found.append("doses changed: " + "; ".join(doses))
    return found


def dose_changes(before: dict, after: dict, names: dict) -> list[str]:
    """Each dose as ordered (one dose × times a day, not the day's total) that differs, every one of them.

    Days with the same change are listed together ("days 1 to 7, 15") so the
    list stays readable without leaving anything out.
    """
    def doses(orders):
        found, seen = {}, {}
        for a in orders["administrations"]:
            key = (a["drug"], a["route"], a["day"])
            seen[key] = seen.get(key, 0) + 1  # the same drug twice on a day by one route stays two doses
            found[key + (seen[key],)] = _as_ordered(a)
        return found

    old, new = doses(before), doses(after)
    groups: dict[tuple, list[int]] = {}
    for key in sorted(set(old) | set(new), key=lambda k: (k[0], k[1], k[2], k[3])):
        if old.get(key) != new.get(key):
            groups.setdefault((key[0], key[1], old.get(key), new.get(key)), []).append(key[2])
    lines = []
    for (drug, route, was, now), days in groups.items():
        what = f"{names.get(drug, drug)} {route} {_days(days)}"
        if was is None:
            lines.append(f"{what} added: {now}")
        elif now is None:
            lines.append(f"{what} removed (was {was})")
        else:
            lines.append(f"{what} {was} -> {now}")
    return lines


def _as_ordered(administration: dict) -> str:
    """'6.6 mg', or '0.35 mg × 3 a day' for a divided dose (logs written before dose_each: the day's dose)."""
    each = administration.get("dose_each", administration["dose"])
    times = administration.get("times_per_day", 1)
    return f"{number(each)} {administration['unit']}" + (f" × {times} a day" if times > 1 else "")


def _days(days: list[int]) -> str:
    """'day 8', 'days 8, 15, 22', 'days 1 to 28, 30'."""
    runs = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    if len(runs) == 1 and runs[0][0] == runs[0][1]:
        return f"day {runs[0][0]}"
    return "days " + ", ".join(str(a) if a == b else f"{a} to {b}" for a, b in runs)
