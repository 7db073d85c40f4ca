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

from dosing.errors import InputError
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


# The seal: each entry's hash covers all it records, its files' names and hashes, and the hash
# of the sealed entry before it, so an entry edited, deleted, inserted or moved breaks the chain.
# With the centre's key (DOSING_LOG_KEY, or a file named by DOSING_LOG_KEY_FILE) the hash is an
# HMAC-SHA256: without the key nobody can make a seal that checks. Without a key anyone with
# write access to the folder and this code can rebuild every seal: the chain then shows an
# edit made without rebuilding it, and no more (README, "The issue log").

GENESIS = ""  #: what the first sealed entry of a log follows
CHAIN_COLUMNS = ("previous_hash", "entry_hash", "seal")  #: added to `issues`; NULL in entries written before the seal existed
MIN_KEY_BYTES = 16  # 128 bits: below this an HMAC key can be searched for; a passphrase should be far longer
SEALED = ("id", "issued_at", "patient_id", "phase", "start", "version", "replaces", "changes", "tool_version", "inputs_sha256",
          "inputs", "regimen_sha256", "options", "orders", "previous_hash", "seal")


def log_key() -> bytes | None:
    """The centre's key for the seals, from DOSING_LOG_KEY or the file DOSING_LOG_KEY_FILE names; None if neither is set."""
    text, file = os.environ.get("DOSING_LOG_KEY"), os.environ.get("DOSING_LOG_KEY_FILE")
    if text and file:
        raise InputError("DOSING_LOG_KEY", "both DOSING_LOG_KEY and DOSING_LOG_KEY_FILE are set", "set only one of them")
    if file:
        try:
            key = Path(file).read_bytes().strip()
        except OSError as exc:
            raise InputError("DOSING_LOG_KEY_FILE", f"{file} cannot be read ({exc.strerror})", "name the centre's key file") from None
        where = f"DOSING_LOG_KEY_FILE ({file})"
    elif text:
        key, where = text.encode("utf-8"), "DOSING_LOG_KEY"
    else:
        return None
    if len(key) < MIN_KEY_BYTES:
        raise InputError(where, f"the key is {len(key)} bytes; a key shorter than {MIN_KEY_BYTES} bytes can be guessed",
                         f"use the centre's key: at least {MIN_KEY_BYTES} random bytes")
    return key


def key_id(key: bytes) -> str:
    """A name for a key that tells keys apart and gives nothing of the key away."""
    import hmac

    return hmac.new(key, b"dosing issue log key id", hashlib.sha256).hexdigest()[:12]


def seal_name(key: bytes | None) -> str:
    """What the log records of how an entry was sealed (never the key)."""
    return f"hmac-sha256 key {key_id(key)}" if key else "sha256"


def entry_hash(entry: dict, files: list, key: bytes | None) -> str:
    """The seal of one entry: every field it records (the patient file by its hash), its files, the seal before it."""
    import hmac

    fields = {name: entry[name] for name in SEALED}
    inputs = fields.pop("inputs")
    fields["inputs"] = sha256(inputs if isinstance(inputs, bytes) else str(inputs).encode("utf-8"))
    fields["files"] = sorted([str(name), str(digest)] for name, digest in files)
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=lambda blob: f"blob {blob.hex()}")  # dosing writes no blob but `inputs`; a forged one still hashes
    payload = b"dosing issue log entry\n" + text.encode("utf-8")
    return hmac.new(key, payload, hashlib.sha256).hexdigest() if key else hashlib.sha256(payload).hexdigest()


def add_chain_columns(db) -> None:
    """A log written before the seal existed gets the seal's columns; its entries stay unsealed (NULL)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(issues)")}
    for column in CHAIN_COLUMNS:
        if column not in have:
            db.execute(f"ALTER TABLE issues ADD COLUMN {column} TEXT")


def seal(db, issue_id: int, key: bytes | None) -> str:
    """Seal entry `issue_id`, as written, after the sealed entry before it (call inside the transaction that wrote it)."""
    entry = _entries(db, f"WHERE id = {int(issue_id)}")[0]
    before = db.execute("SELECT entry_hash FROM issues WHERE entry_hash IS NOT NULL AND id < ? ORDER BY id DESC LIMIT 1",
                        (issue_id,)).fetchone()
    entry["previous_hash"], entry["seal"] = before[0] if before else GENESIS, seal_name(key)
    files = db.execute("SELECT name, sha256 FROM files WHERE issue_id = ?", (issue_id,)).fetchall()
    digest = entry_hash(entry, files, key)
    db.execute("UPDATE issues SET previous_hash = ?, entry_hash = ?, seal = ? WHERE id = ?",
               (entry["previous_hash"], digest, entry["seal"], issue_id))
    return digest


def _entries(db, where: str = "") -> list[dict]:
    columns = list(dict.fromkeys(SEALED + CHAIN_COLUMNS))
    return [dict(zip(columns, row)) for row in db.execute(f"SELECT {', '.join(columns)} FROM issues {where} ORDER BY id")]


@attrs.frozen
class ChainCheck:
    """The whole log's chain walked: what was found wrong, and how the entries were sealed."""

    entries: int
    unsealed: tuple[int, ...]  #: ids of entries written before the log was sealed (no seal to check)
    keyed: tuple[int, ...]  #: ids of entries sealed with a key
    problems: tuple[str, ...]  #: each break found, naming the entry; none: the chain is whole


def label(entry: dict) -> str:
    return (f"entry {entry['id']} (version {entry['version']} of {entry['phase']} for {entry['patient_id']}, "
            f"day 1 {entry['start']}, issued {entry['issued_at']})")


def check_chain(db, key: bytes | None) -> ChainCheck:
    """Walk every entry in order: each seal recomputed from what the entry records, each linked to the one before."""
    if not {"entry_hash", "previous_hash", "seal"} <= {row[1] for row in db.execute("PRAGMA table_info(issues)")}:
        ids = tuple(row[0] for row in db.execute("SELECT id FROM issues ORDER BY id"))
        return ChainCheck(len(ids), ids, (), ())
    entries = _entries(db)
    files: dict[int, list] = {}
    for issue_id, name, digest in db.execute("SELECT issue_id, name, sha256 FROM files"):
        files.setdefault(issue_id, []).append((name, digest))
    problems, unsealed, keyed, previous, keyed_since, no_key = [], [], [], None, None, []
    for entry in entries:
        if entry["entry_hash"] is None:
            if previous is not None:
                problems.append(f"{label(entry)} has no seal, though entries before it are sealed: it was added or changed outside dosing")
            else:
                unsealed.append(entry["id"])
            continue
        seal_text = str(entry["seal"] or "")
        if entry["previous_hash"] != (GENESIS if previous is None else previous):
            problems.append(f"{label(entry)} does not follow the sealed entry before it: an entry before it was deleted, "
                            "inserted or moved, or its seal was changed")
        if seal_text.startswith("hmac-sha256 key "):
            keyed.append(entry["id"])
            keyed_since = keyed_since or entry
            if key is None:
                no_key.append(entry["id"])
            elif seal_text != seal_name(key):
                problems.append(f"{label(entry)} was sealed with another key ({seal_text.split()[-1]}) than the one given "
                                f"({key_id(key)}): give the centre's key, or the entry's seal was changed")
            elif entry_hash(entry, files.get(entry["id"], []), key) != entry["entry_hash"]:
                problems.append(f"{label(entry)} does not match its seal: it, or its files' names or hashes, were changed after it was issued")
        elif seal_text == "sha256":
            if keyed_since is not None:
                problems.append(f"{label(entry)} is sealed without the centre's key, though {label(keyed_since)} and later entries were "
                                "sealed with it: it was added or re-sealed outside dosing")
            elif entry_hash(entry, files.get(entry["id"], []), None) != entry["entry_hash"]:
                problems.append(f"{label(entry)} does not match its seal: it, or its files' names or hashes, were changed after it was issued")
        else:
            problems.append(f"{label(entry)} names a seal dosing does not make ({seal_text!r}): it was changed outside dosing")
        if entry["inputs_sha256"] != sha256(entry["inputs"] if isinstance(entry["inputs"], bytes) else str(entry["inputs"]).encode("utf-8")):
            problems.append(f"{label(entry)} holds a copy of the patient file that does not match its recorded hash")
        previous = entry["entry_hash"]
    if no_key:
        problems.append(f"{len(no_key)} entr{'y is' if len(no_key) == 1 else 'ies are'} sealed with the centre's key and cannot be "
                        "checked without it: set DOSING_LOG_KEY or DOSING_LOG_KEY_FILE as the centre does when it issues")
    known = {entry["id"] for entry in entries}
    strays = sorted(issue_id for issue_id in files if issue_id not in known)
    if strays:
        problems.append(f"files are recorded for entr{'y' if len(strays) == 1 else 'ies'} {', '.join(map(str, strays))}, "
                        "which the log no longer holds: an entry was deleted")
    return ChainCheck(len(entries), tuple(unsealed), tuple(keyed), tuple(problems))


# Reading the log safely: a damaged or foreign file is a refusal that names it and says what to
# do, never "internal error". A UNIQUE clash (two issues at once) or a locked file is not damage:
# those errors pass through as they are.

DAMAGE = ("file is not a database", "malformed", "no such table", "no such column", "file is encrypted")


def well_formed(fields: list) -> None:
    """An entry as dosing writes it, or ValueError saying which field is not (what the code reading it relies on)."""
    from datetime import date as date_type

    (issue_id, issued_at, patient_id, phase, start, version, replaces, changes_, tool_version, inputs_sha256, inputs, regimen_sha256,
     options, orders) = fields
    datetime.fromisoformat(issued_at)
    date_type.fromisoformat(start)
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
