"""The issue log's seal: a chain of hashes that shows an entry edited, deleted, inserted or moved.

Written by store.IssueLog.record (each new entry sealed in the transaction that
writes it) and walked by `dosing verify` (check_chain, through store.LogReader).

Each entry's hash covers all it records, its files' names and hashes, and the
hash of the sealed entry before it, so an entry edited, deleted, inserted or
moved breaks the chain. With the centre's key (DOSING_LOG_KEY, or a file named
by DOSING_LOG_KEY_FILE) the hash is an HMAC-SHA256: without the key nobody can
make a seal that checks. Without a key anyone with write access to the folder
and this code can rebuild every seal: the chain then shows an edit made
without rebuilding it, and no more (README, "The issue log").
"""

import hashlib
import hmac
import json
import os
from pathlib import Path

import attrs

from dosing.errors import InputError
from dosing.issue_log.hashes import sha256

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
    return hmac.new(key, b"dosing issue log key id", hashlib.sha256).hexdigest()[:12]


def seal_name(key: bytes | None) -> str:
    """What the log records of how an entry was sealed (never the key)."""
    return f"hmac-sha256 key {key_id(key)}" if key else "sha256"


def entry_hash(entry: dict, files: list, key: bytes | None) -> str:
    """The seal of one entry: every field it records (the patient file by its hash), its files, the seal before it."""
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
