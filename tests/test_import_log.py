"""An existing issue-log.sqlite imported into the pharmacy server (dosing.store.imported), on SQLite and PostgreSQL:
a real log of two versions of one sheet made by `dosing sheet --out`, imported once, refused when damaged or
its seal chain is broken, and imported twice without a second copy."""

import contextlib
import hashlib
import io
import shutil
import sqlite3

import pytest

from dosing.cli import main
from dosing.errors import InputError
from dosing.store import open_database
from dosing.store import orders as store
from dosing.store.imported import ImportResult, import_issue_log
from tests.conftest import EXAMPLES

START = "2026-05-29"


def sheet(patient, out, *extra):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["sheet", str(patient), "--phase", "induction", "--start", START, "--out", str(out), "--format", "html",
                     *extra]) == 0


@pytest.fixture(scope="module")
def issued_folder(tmp_path_factory):
    """A folder where version 1 and then version 2 (the weight re-measured) of one induction were issued, as a ward's would be."""
    root = tmp_path_factory.mktemp("issued")
    patient = root / "standard-risk.toml"
    patient.write_text((EXAMPLES / "standard-risk.toml").read_text())
    with pytest.MonkeyPatch.context() as env:
        env.delenv("DOSING_LOG_KEY", raising=False)
        env.delenv("DOSING_LOG_KEY_FILE", raising=False)
        sheet(patient, root / "out")
        first = patient.read_text()
        patient.write_text(first.replace('weight = "6.4 kg"', 'weight = "6.6 kg"'))
        sheet(patient, root / "out")
    return root / "out", first, patient.read_text()


@pytest.fixture
def folder(issued_folder, tmp_path, monkeypatch):
    monkeypatch.delenv("DOSING_LOG_KEY", raising=False)
    monkeypatch.delenv("DOSING_LOG_KEY_FILE", raising=False)
    copy = tmp_path / "out"
    shutil.copytree(issued_folder[0], copy)
    return copy


@pytest.fixture
def db(database_url):
    database = open_database(database_url)
    yield database
    database.dispose()


def log_rows(folder, sql):
    with sqlite3.connect(folder / "issue-log.sqlite") as log:
        return log.execute(sql).fetchall()


def test_a_real_log_is_imported_as_issued_orders(db, folder, issued_folder):
    _, first_toml, second_toml = issued_folder
    entries = log_rows(folder, "SELECT id, issued_at, entry_hash, seal, version FROM issues ORDER BY id")
    assert [e[4] for e in entries] == [1, 2] and all(e[3] == "sha256" for e in entries)
    files = log_rows(folder, "SELECT issue_id, name, sha256 FROM files ORDER BY rowid")
    assert len(files) == 8  # orders, intrathecal, calendar and administration record, for each version

    assert import_issue_log(db, folder) == ImportResult(imported=2, skipped=0, documents=8, missing=0)

    listed = store.list_orders(db)
    assert [(o["version"], o["state"], o["prepared_by"]) for o in listed] == [(2, "issued", "issue-log import"),
                                                                              (1, "issued", "issue-log import")]
    second, first = (store.get_order(db, o["id"]) for o in listed)
    assert (second.replaces, first.replaced_by, first.replaces, second.replaced_by) == (first.id, second.id, None, None)
    assert (first.patient_toml, second.patient_toml) == (first_toml, second_toml)
    assert (first.orders["weight_kg"], second.orders["weight_kg"]) == (6.4, 6.6)
    assert second.changes.startswith("the patient file changed; weight 6.4 kg -> 6.6 kg")
    assert first.prepared_at == entries[0][1] and second.prepared_at == entries[1][1]
    assert second.warnings == second.orders["warnings"] and second.options == log_options(folder, 2)
    # Each file is kept, byte for byte, under its name; the hash is the one the log recorded.
    for issue_id, name, digest in files:
        order_id, content = store.document(db, name)
        assert order_id == (first.id if issue_id == 1 else second.id)
        assert content == (folder / name).read_bytes() and hashlib.sha256(content).hexdigest() == digest
    # One "imported" event per entry, dated when it was issued, naming the log, the entry and its seal.
    for view, (entry_id, issued_at, entry_hash, seal, _) in zip((first, second), entries):
        [event] = view.history
        assert (event["action"], event["user"], event["at"]) == ("imported", "issue-log import", issued_at)
        assert event["detail"]["log"] == str((folder / "issue-log.sqlite").resolve())
        assert (event["detail"]["entry"], event["detail"]["seal"], event["detail"]["key"]) == (entry_id, seal, entry_hash)
    # The server's history now answers as the folder's log did: the last issued is version 2, issued when the log says.
    last = store.History(db).last_for_patient("MRN-100001")
    assert (last.id, last.version, last.issued_at) == (second.id, 2, entries[1][1])
    assert store.History(db).latest("MRN-100001", "induction", START).id == second.id


def log_options(folder, issue_id):
    import json

    return json.loads(log_rows(folder, f"SELECT options FROM issues WHERE id = {issue_id}")[0][0])


def test_importing_twice_imports_nothing_new(db, folder):
    import_issue_log(db, folder)
    events = store.audit(db)
    assert import_issue_log(db, folder) == ImportResult(imported=0, skipped=2, documents=0, missing=0)
    assert store.audit(db) == events and len(store.list_orders(db)) == 2


def test_a_file_gone_or_changed_is_kept_as_its_name_and_hash_only(db, folder):
    gone, changed = "MRN-100001_induction_2026-05-29_calendar.html", "MRN-100001_induction_2026-05-29_v2_orders.html"
    (folder / gone).unlink()
    (folder / changed).write_text((folder / changed).read_text().replace("6.6", "9.9"))
    assert import_issue_log(db, folder) == ImportResult(imported=2, skipped=0, documents=8, missing=2)
    for name in (gone, changed):
        with pytest.raises(store.NotFound, match=f"{name} was imported from an issue log without its file"):
            store.document(db, name)
    recorded = dict((n, d) for _, n, d in log_rows(folder, "SELECT issue_id, name, sha256 FROM files"))
    view = store.get_order(db, store.list_orders(db)[0]["id"])
    assert {"name": changed, "sha256": recorded[changed]} in view.documents


def test_a_broken_seal_chain_imports_nothing(db, folder):
    with sqlite3.connect(folder / "issue-log.sqlite") as log:
        log.execute("UPDATE issues SET changes = 'nothing' WHERE id = 2")
    with pytest.raises(InputError) as refused:
        import_issue_log(db, folder)
    assert refused.value.field == str(folder / "issue-log.sqlite")
    assert "its seal chain is broken: entry 2 (version 2 of induction for MRN-100001" in refused.value.problem
    assert "does not match its seal" in refused.value.problem
    assert refused.value.fix.startswith("nothing was imported; restore the log from backup")
    assert store.list_orders(db) == [] and store.audit(db) == []


def test_a_log_sealed_with_a_key_needs_the_key(db, folder, issued_folder, tmp_path, monkeypatch):
    patient = tmp_path / "patient.toml"
    patient.write_text(issued_folder[2].replace('weight = "6.6 kg"', 'weight = "6.8 kg"'))
    monkeypatch.setenv("DOSING_LOG_KEY", "the centre's key, long enough")
    sheet(patient, folder)  # version 3, sealed with the centre's key
    monkeypatch.delenv("DOSING_LOG_KEY")
    with pytest.raises(InputError, match="sealed with the centre's key and cannot be checked without it"):
        import_issue_log(db, folder)
    monkeypatch.setenv("DOSING_LOG_KEY", "the centre's key, long enough")
    assert import_issue_log(db, folder).imported == 3
    third = store.get_order(db, store.list_orders(db)[0]["id"])
    assert third.version == 3 and third.history[0]["detail"]["seal"].startswith("hmac-sha256 key ")


def test_a_log_written_before_seals_is_known_by_a_hash_of_its_entries(db, folder, tmp_path):
    """An old log without the seal's columns: each entry keyed by the SHA-256 of what it records, so twice is still once."""
    old = tmp_path / "old"
    old.mkdir()
    columns = ("id, issued_at, patient_id, phase, start, version, replaces, changes, tool_version, inputs_sha256, inputs, "
               "regimen_sha256, options, orders")
    with sqlite3.connect(old / "issue-log.sqlite") as log:
        log.execute("ATTACH DATABASE ? AS new", (str(folder / "issue-log.sqlite"),))
        log.execute(f"CREATE TABLE issues AS SELECT {columns} FROM new.issues")
        log.execute("CREATE TABLE files AS SELECT * FROM new.files")
    result = import_issue_log(db, old)
    assert result == ImportResult(imported=2, skipped=0, documents=8, missing=8)  # the files were not copied beside it
    keys = [e["detail"]["key"] for e in store.audit(db)]
    assert [e["detail"]["seal"] for e in store.audit(db)] == [None, None] and len(set(keys)) == 2
    assert all(len(k) == 64 for k in keys) and keys[0] not in [r[0] for r in log_rows(folder, "SELECT entry_hash FROM issues")]
    assert import_issue_log(db, old) == ImportResult(imported=0, skipped=2, documents=0, missing=0)


def test_a_damaged_or_missing_log_is_refused(db, folder, tmp_path):
    with pytest.raises(InputError, match="holds no issue-log.sqlite") as missing:
        import_issue_log(db, tmp_path / "empty")
    assert missing.value.fix == "give the folder the sheets were issued into"
    (folder / "issue-log.sqlite").write_bytes(b"this is not a database, it was overwritten" * 100)
    with pytest.raises(InputError, match="is not a readable issue log") as damaged:
        import_issue_log(db, folder)
    assert damaged.value.field.endswith("issue-log.sqlite")
    assert store.list_orders(db) == []


def test_an_entry_the_server_already_holds_a_version_of_is_refused(db, folder):
    from tests.test_store import ANN, prepare

    prepare(db, {"administrations": [], "warnings": []}, by=ANN)
    with pytest.raises(InputError, match="this server already holds version 1 \\(prepared by ann at") as clash:
        import_issue_log(db, folder)
    assert clash.value.fix.startswith("nothing was imported")
    assert len(store.list_orders(db)) == 1
