"""The issue log's tables, and the IssueLog that records each issue and reads the versions back.

Last step of the data flow (issue): dosing.output calls IssueLog.record
inside its all-or-nothing write, the moment a sheet is issued; `dosing
verify` reads the log with LogReader. Each entry is sealed (chain.py) in the
transaction that writes it; connection.py opens the file and turns damage
into a refusal.
"""

import json
import os
from datetime import datetime
from pathlib import Path

import attrs

from dosing.issue_log.chain import SEALED, ChainCheck, add_chain_columns, check_chain, log_key, seal
from dosing.issue_log.connection import FILE_NAME, connect, damaged, well_formed
from dosing.issue_log.hashes import sha256

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
    previous_hash TEXT,
    entry_hash TEXT,
    seal TEXT,
    UNIQUE (patient_id, phase, start, version)
);
CREATE TABLE IF NOT EXISTS files (
    issue_id INTEGER NOT NULL REFERENCES issues(id),
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL
);
"""


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
        self.key = log_key()  # read before any sheet is written, so a bad key refuses the issue, not its record
        self.db = connect(self.path)  # a damaged log is a clear refusal
        self.db.executescript(SCHEMA)
        add_chain_columns(self.db)

    def close(self):
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _issue(self, row) -> Issue:
        fields = list(row)[:14]  # the columns after these (the seal's) are read by check_chain
        try:
            fields[12], fields[13] = json.loads(fields[12]), json.loads(fields[13])
            well_formed(fields)
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise damaged(self.path, Exception(f"entry {fields[0] if fields else '?'} is malformed: {exc}")) from None
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
            seal(self.db, cursor.lastrowid, self.key)
            return cursor.lastrowid


class LogReader(IssueLog):
    """The issue log opened only to read it (`dosing verify`): checked whole before anything is believed."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / FILE_NAME
        self.key = None
        self.db = connect(self.path, read_only=True)
        problems = [row[0] for row in self.db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            self.db.close()
            raise damaged(self.path, Exception("; ".join(problems[:3])))
        for table, columns in (("issues", SEALED[:14]), ("files", ("issue_id", "name", "sha256"))):
            have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            if not set(columns) <= have:
                self.db.close()
                lacks = f"the {table} table lacks {', '.join(sorted(set(columns) - have))}" if have else f"no {table} table"
                raise damaged(self.path, Exception(lacks))

    def by_id(self, issue_id: int) -> Issue | None:
        row = self.db.execute("SELECT * FROM issues WHERE id = ?", (issue_id,)).fetchone()
        return self._issue(row) if row else None

    def names(self) -> set[str]:
        """Every file name the log records."""
        return {row[0] for row in self.db.execute("SELECT name FROM files")}

    def chain(self, key: bytes | None) -> ChainCheck:
        return check_chain(self.db, key)

    def seal_of(self, issue_id: int) -> str | None:
        """How entry `issue_id` was sealed ('sha256', 'hmac-sha256 key …'), None if it was not."""
        if "seal" not in {row[1] for row in self.db.execute("PRAGMA table_info(issues)")}:
            return None
        return self.db.execute("SELECT seal FROM issues WHERE id = ?", (issue_id,)).fetchone()[0]
