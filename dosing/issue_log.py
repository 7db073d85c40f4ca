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

    def last_for_patient(self, patient_id: str) -> Issue | None:
        row = self.db.execute("SELECT * FROM issues WHERE patient_id = ? ORDER BY id DESC LIMIT 1", (patient_id,)).fetchone()
        return self._issue(row) if row else None

    def by_file(self, name: str, digest: str) -> Issue | None:
        row = self.db.execute(
            "SELECT issues.* FROM issues JOIN files ON files.issue_id = issues.id WHERE files.name = ? AND files.sha256 = ?",
            (name, digest)).fetchone()
        return self._issue(row) if row else None

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


def changes(previous: Issue, inputs: bytes, regimen_sha256: str, options: dict, orders: dict) -> list[str]:
    """What differs from the previous version, in words a pharmacist can check."""
    found = []
    if sha256(inputs) != previous.inputs_sha256:
        found.append("the patient file changed")
    for key, label, unit in (("weight_kg", "weight", "kg"), ("length_cm", "length", "cm"), ("bsa_m2", "BSA", "m²")):
        if previous.orders.get(key) != orders.get(key):
            found.append(f"{label} {previous.orders.get(key)} {unit} -> {orders.get(key)} {unit}")
    if regimen_sha256 != previous.regimen_sha256:
        found.append("the regimen data changed")
    if options != previous.options:
        changed = sorted(k for k in set(options) | set(previous.options) if options.get(k) != previous.options.get(k))
        found.append("options changed: " + ", ".join(f"{k} {previous.options.get(k)} -> {options.get(k)}" for k in changed))

    def doses(o):
        return {(a["drug"], a["route"], a["day"]): (a["dose"], a["unit"]) for a in o["administrations"]}

    before, after = doses(previous.orders), doses(orders)
    moved = [f"{k[0]} {k[1]} day {k[2]} {number(before[k][0])} -> {number(after[k][0])} {after[k][1]}"
             for k in sorted(set(before) & set(after)) if before[k] != after[k]]
    moved += [f"{k[0]} {k[1]} day {k[2]} added" for k in sorted(set(after) - set(before))]
    moved += [f"{k[0]} {k[1]} day {k[2]} removed" for k in sorted(set(before) - set(after))]
    if moved:
        found.append(f"{len(moved)} dose{'s' if len(moved) > 1 else ''} changed: " + "; ".join(moved[:6]) + ("; ..." if len(moved) > 6 else ""))
    return found
