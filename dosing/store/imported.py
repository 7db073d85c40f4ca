"""An existing issue-log.sqlite brought into the pharmacy server (`dosing db import-log FOLDER`).

The log is read with dosing.issue_log.LogReader (checked whole; a damaged log
is refused as `dosing verify` refuses it) and its seal chain walked before
anything is believed: a broken chain imports nothing. Each entry becomes an
order already issued, its files kept when the file beside the log still has
the SHA-256 the log recorded. The import is one transaction, and each entry
is known by a stable key (its seal, or a hash of what it records), so
importing the same log twice imports nothing new.
"""

import json
from datetime import datetime
from pathlib import Path

import attrs
from sqlalchemy import select

from dosing.errors import InputError
from dosing.store import audit
from dosing.store.models import Document, Order

IMPORTER = "issue-log import"  #: who the orders and events name as having recorded them


@attrs.frozen
class ImportResult:
    imported: int  #: entries made into orders now
    skipped: int  #: entries imported before
    documents: int  #: files recorded (with or without their bytes)
    missing: int  #: of those, files not found beside the log with the recorded SHA-256 (kept as name and hash only)


def import_issue_log(db, folder) -> ImportResult:
    from dosing import issue_log

    folder = Path(folder)
    path = folder / issue_log.FILE_NAME
    if not path.is_file():
        raise InputError(str(folder), f"holds no {issue_log.FILE_NAME}", "give the folder the sheets were issued into")
    reader = issue_log.LogReader(folder)
    try:
        chain = reader.chain(issue_log.log_key())
        if chain.problems:
            raise InputError(str(path), "its seal chain is broken: " + "; ".join(chain.problems),
                             "nothing was imported; restore the log from backup (and set DOSING_LOG_KEY or DOSING_LOG_KEY_FILE if the "
                             "centre seals with a key), then import again")
        entries = [_entry(reader, issue_id) for (issue_id,) in reader.db.execute("SELECT id FROM issues ORDER BY id").fetchall()]
    finally:
        reader.close()
    with db.transaction() as session:
        return _import(session, folder, path, entries)


def _entry(reader, issue_id: int) -> dict:
    from dosing.issue_log import sha256

    issue = reader.by_id(issue_id)
    files = reader.db.execute("SELECT name, sha256 FROM files WHERE issue_id = ? ORDER BY rowid", (issue_id,)).fetchall()
    sealed = reader.seal_of(issue_id)
    key = reader.db.execute("SELECT entry_hash FROM issues WHERE id = ?", (issue_id,)).fetchone()[0] if sealed else None
    if key is None:  # written before the log was sealed: known by a hash of everything it records
        fields = attrs.asdict(issue)
        fields["inputs"] = sha256(issue.inputs)
        fields["files"] = sorted([name, digest] for name, digest in files)
        key = sha256(json.dumps(fields, sort_keys=True, default=str).encode("utf-8"))
    return {"issue": issue, "files": files, "seal": sealed, "key": key}


def _import(session, folder: Path, path: Path, entries: list[dict]) -> ImportResult:
    from dosing.issue_log import sha256

    imported = skipped = documents = missing = 0
    ids: dict[int, str] = {}  # the log's entry id -> the order it became, for `replaces`
    for entry in entries:
        issue = entry["issue"]
        known = session.scalar(select(Order.id).where(Order.imported_from == entry["key"]))
        if known is not None:
            ids[issue.id] = known
            skipped += 1
            continue
        _clash(session, issue, entry["files"], path)
        order_id = ids[issue.id] = _order_id()
        issued_at = datetime.fromisoformat(issue.issued_at)
        session.add(Order(
            id=order_id, patient_id=issue.patient_id, phase=issue.phase, start=issue.start, version=issue.version,
            replaces=ids.get(issue.replaces) if issue.replaces is not None else None, state="issued", revision=1,
            changes=issue.changes, patient_toml=issue.inputs.decode("utf-8", errors="replace"),  # TOML is UTF-8; dosing read it so
            options=json.dumps(issue.options, sort_keys=True), orders=json.dumps(issue.orders, sort_keys=True),
            warnings=json.dumps(issue.orders.get("warnings", [])), tool_version=issue.tool_version,
            regimen_sha256=issue.regimen_sha256, prepared_by=IMPORTER, prepared_at=issued_at, imported_from=entry["key"]))
        session.flush()
        for name, digest in entry["files"]:
            content = _beside(folder, name, digest)
            missing += content is None
            documents += 1
            session.add(Document(order_id=order_id, name=name, sha256=digest, content=content))
        audit.record(session, IMPORTER, "admin", "imported", order_id=order_id, at=issued_at,
                     detail={"log": str(path.resolve()), "entry": issue.id, "seal": entry["seal"], "key": entry["key"],
                             "files": [name for name, _ in entry["files"]]})
        imported += 1
    return ImportResult(imported=imported, skipped=skipped, documents=documents, missing=missing)


def _order_id() -> str:
    import uuid

    return uuid.uuid4().hex


def _beside(folder: Path, name: str, digest: str) -> bytes | None:
    """The file's bytes if it lies beside the log as it was issued (same SHA-256), else None: a changed file is not the issued one."""
    from dosing.issue_log import sha256

    if Path(name).name != name:  # a name the log records is a file in its own folder, never a path elsewhere
        return None
    try:
        content = (folder / name).read_bytes()
    except OSError:
        return None
    return content if sha256(content) == digest else None


def _clash(session, issue, files, path: Path) -> None:
    """An entry whose version or file names the server already holds (not from this entry): refused, nothing imported."""
    from dosing.issue_log import label

    held = session.scalar(select(Order).where(Order.patient_id == issue.patient_id, Order.phase == issue.phase,
                                              Order.start == issue.start, Order.version == issue.version))
    what = label(attrs.asdict(issue))
    if held is not None:
        raise InputError(str(path), f"{what}: this server already holds version {issue.version} (prepared by {held.prepared_by} at "
                         f"{held.prepared_at:%Y-%m-%d %H:%M}), so the entry cannot be imported beside it",
                         "nothing was imported; import the log into a new database, before the server prepares orders")
    names = [name for name, _ in files]
    taken = session.scalar(select(Document.name).where(Document.name.in_(names)).limit(1)) if names else None
    if taken is not None:
        raise InputError(str(path), f"{what}: this server already holds a document named {taken}",
                         "nothing was imported; import the log into a new database, before the server issues orders")
