"""The pharmacy server's records (dosing.store.orders), on SQLite and on a real PostgreSQL: the schema, the append-only
tables, the chain prepared -> verified -> issued, every refusal, corrections, the totals worked by hand, and races run
for real in threads."""

import contextlib
import hashlib
import io
import json
import threading
from datetime import datetime

import attrs
import pytest
from sqlalchemy import text

from dosing.cli import main
from dosing.errors import InputError
from dosing.store import open_database
from dosing.store import orders as store
from dosing.store.orders import Conflict, NotAllowed, NotFound
from tests.conftest import EXAMPLES


@attrs.frozen
class Person:
    name: str
    role: str


ANN, BOB, CAT = Person("ann", "pharmacist"), Person("bob", "pharmacist"), Person("cat", "pharmacist")
NINA, NED, ADA = Person("nina", "nurse"), Person("ned", "nurse"), Person("ada", "admin")
START = "2026-05-29"  # standard-risk.toml: diagnosed 2026-05-28, measured 2026-05-29
WHEN = datetime(2026, 5, 29, 9, 30)


@pytest.fixture(scope="module")
def computed():
    """The real JSON orders of examples/standard-risk.toml's induction (what dosing.pharmacy records)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["sheet", str(EXAMPLES / "standard-risk.toml"), "--phase", "induction", "--start", START, "--format", "json"]) == 0
    return json.loads(out.getvalue())


@pytest.fixture
def db(database_url):
    database = open_database(database_url)
    yield database
    database.dispose()


def prepare(db, computed, by=ANN, version=1, replaces=None, patient_id="MRN-100001"):
    return store.record_prepared(
        db, by, patient_id=patient_id, phase="induction", start=START, version=version, replaces=replaces,
        changes=[] if version == 1 else ["weight 6.4 kg -> 6.6 kg"], patient_toml=(EXAMPLES / "standard-risk.toml").read_text(),
        options={"window": None, "infusion_start": None, "override": None, "bag_hours": None}, orders=computed,
        warnings=computed["warnings"], tool_version="test", regimen_sha256="0" * 64,
        drafts=[("orders", "Orders", "<p>orders</p>"), ("calendar", "Calendar", "<p>calendar</p>")])


def issued(db, computed, name="MRN-100001_induction_2026-05-29_orders.pdf"):
    order = prepare(db, computed)
    store.verify(db, BOB, order)
    store.issue(db, BOB, order, {name: b"%PDF-1.7 orders"})
    return order


def give(db, order, item, **changes):
    fields = {"given": True, "given_at": WHEN, "given_by": "NK", "checked_by": "JS", "batch": "LOT-123"} | changes
    return store.record_administration(db, NINA, order, item, **fields)


def actions(db, order):
    return [(e["action"], e["user"]) for e in store.get_order(db, order).history]


# -- the schema --------------------------------------------------------------------------------------------------------

def test_migration_and_models_agree(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from dosing.store.models import Base

    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_the_database_refuses_to_change_the_record(db, computed):
    order = issued(db, computed)
    give(db, order, 1)
    refused = "never changed or deleted"
    for table in ("events", "administrations", "documents", "drafts"):
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(Exception, match=refused), db.engine.begin() as connection:
                connection.execute(text(statement))
    with pytest.raises(Exception, match=refused), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM orders"))
    with db.engine.begin() as connection:  # the state machine's own UPDATE is allowed: orders change state, never go
        assert connection.execute(text("UPDATE orders SET revision = revision")).rowcount == 1
    with db.engine.connect() as connection:
        counts = [connection.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in ("events", "administrations", "documents",
                                                                                          "drafts", "orders")]
    assert counts == [4, 1, 1, 2, 1]  # prepared, verified, issued, given; nothing went


# -- the chain ---------------------------------------------------------------------------------------------------------

def test_the_whole_chain(db, computed):
    order = prepare(db, computed)
    view = store.get_order(db, order)
    assert (view.state, view.revision, view.version, view.prepared_by, view.replaces, view.replaced_by) == ("prepared", 1, 1, "ann", None, None)
    assert [d["kind"] for d in view.drafts] == ["orders", "calendar"] and view.drafts[0]["html"] == "<p>orders</p>"
    assert view.orders == computed and view.warnings == computed["warnings"] and view.patient_toml.startswith("# A 4-month-old")
    store.verify(db, BOB, order)
    assert store.get_order(db, order).state == "verified"
    store.issue(db, CAT, order, {"a_orders.pdf": b"%PDF orders", "a_calendar.pdf": b"%PDF calendar"})
    view = store.get_order(db, order)
    assert (view.state, view.revision) == ("issued", 3)
    assert view.documents == [{"name": "a_orders.pdf", "sha256": hashlib.sha256(b"%PDF orders").hexdigest()},
                              {"name": "a_calendar.pdf", "sha256": hashlib.sha256(b"%PDF calendar").hexdigest()}]
    assert store.document(db, "a_calendar.pdf") == (order, b"%PDF calendar")
    record = give(db, order, 1)
    view = store.get_order(db, order)
    assert view.administrations == [{"item": 1, "id": record, "given": True, "given_at": "2026-05-29T09:30", "given_by": "NK",
                                     "checked_by": "JS", "batch": "LOT-123", "not_given_reason": None, "recorded_by": "nina",
                                     "recorded_at": view.administrations[0]["recorded_at"], "corrects": None, "current": True}]
    assert actions(db, order) == [("prepared", "ann"), ("verified", "bob"), ("issued", "cat"), ("given", "nina")]
    assert view.history[2]["detail"] == {"documents": ["a_calendar.pdf", "a_orders.pdf"]}
    said = view.as_json()
    assert "html" not in json.dumps(said["drafts"]) and said["drafts"] == [{"kind": "orders", "title": "Orders"},
                                                                          {"kind": "calendar", "title": "Calendar"}]
    assert len(said["administrations"]) == len(computed["administrations"]) == 62
    assert said["administrations"][0]["item"] == 1 and said["administrations"][0]["recorded"]["id"] == record
    assert said["administrations"][1]["recorded"] is None and said["administrations"][1]["drug"] == "methotrexate"
    json.dumps(said)  # the API sends it as it is
    assert [(o["id"], o["state"]) for o in store.list_orders(db)] == [(order, "issued")]
    assert store.list_orders(db, state="prepared") == []
    assert [e["action"] for e in store.audit(db)] == ["prepared", "verified", "issued", "given"]


def test_the_totals_worked_by_hand(db, computed):
    order = issued(db, computed)
    a = computed["administrations"]
    # Items (from 1) as the sheet lists them: 1 and 5 are dexamethasone PO on days 1 and 2; vinCRIStine IV is 13, 25, 36, 48, 59.
    assert [(a[i - 1]["drug"], a[i - 1]["day"], a[i - 1]["dose"]) for i in (1, 5, 13, 25, 36)] == [
        ("dexamethasone", 1, 1.35), ("dexamethasone", 2, 1.35), ("vincristine", 8, 0.33), ("vincristine", 15, 0.33),
        ("vincristine", 22, 0.33)]
    give(db, order, 1)
    day_2 = give(db, order, 5)
    give(db, order, 13)
    give(db, order, 25)
    store.record_administration(db, NINA, order, 36, given=False, not_given_reason="neuropathy: held by Dr Ray")
    totals = {(t["drug"], t["route"]): t for t in store.get_order(db, order).totals}
    # dexamethasone PO: days 1-28 at 1.35 mg (28 x 1.35 = 37.8), 29-31 at 0.6 (1.8), 32-34 at 0.3 (0.9), 35-36 at 0.15 (0.3):
    # 37.8 + 1.8 + 0.9 + 0.3 = 40.8 mg planned over 36 days; given days 1 and 2: 1.35 + 1.35 = 2.7 mg; 36 - 2 = 34 open.
    assert totals[("dexamethasone", "PO")] == {"drug": "dexamethasone", "route": "PO", "unit": "mg", "planned": 40.8, "given": 2.7,
                                               "doses_given": 2, "doses_not_given": 0, "doses_open": 34}
    # vinCRIStine IV: days 8, 15, 22, 29, 36 at 0.33 mg = 1.65 mg planned; 8 and 15 given = 0.66 mg; 22 not given; 29, 36 open.
    assert totals[("vincristine", "IV")] == {"drug": "vincristine", "route": "IV", "unit": "mg", "planned": 1.65, "given": 0.66,
                                             "doses_given": 2, "doses_not_given": 1, "doses_open": 2}
    assert totals[("pegaspargase", "IV")]["unit"] == "units" and totals[("pegaspargase", "IV")]["planned"] == 220.0
    # Day 2 was not given after all: the correction counts, the old record does not: 2.7 - 1.35 = 1.35 mg.
    store.record_administration(db, NED, order, 5, given=False, not_given_reason="vomited the dose", corrects=day_2)
    dex = next(t for t in store.get_order(db, order).totals if (t["drug"], t["route"]) == ("dexamethasone", "PO"))
    assert (dex["given"], dex["doses_given"], dex["doses_not_given"], dex["doses_open"]) == (1.35, 1, 1, 34)


def test_a_correction_keeps_the_old_record(db, computed):
    order = issued(db, computed)
    first = give(db, order, 2, batch="LOT-1")
    second = give(db, order, 2, batch="LOT-2", corrects=first)
    records = store.get_order(db, order).administrations
    assert [(r["id"], r["batch"], r["corrects"], r["current"]) for r in records] == [(first, "LOT-1", None, False),
                                                                                    (second, "LOT-2", first, True)]
    with pytest.raises(Conflict, match=f"record {first} was already corrected by record {second} \\(nina at "):
        give(db, order, 2, corrects=first)
    with pytest.raises(InputError) as wrong_item:
        give(db, order, 3, corrects=second)
    assert wrong_item.value.field == "corrects"
    assert store.get_order(db, order).as_json()["administrations"][1]["recorded"]["batch"] == "LOT-2"
    assert [e["action"] for e in store.audit(db)][-2:] == ["given", "corrected"]


def test_a_new_version_replaces_the_old_one_which_keeps_its_state(db, computed):
    first = prepare(db, computed)
    second = prepare(db, computed, by=BOB, version=2, replaces=first)
    old, new = store.get_order(db, first), store.get_order(db, second)
    assert (old.state, old.replaced_by, new.replaces, new.changes) == ("prepared", second, first, "weight 6.4 kg -> 6.6 kg")
    assert actions(db, first) == [("prepared", "ann"), ("replaced", "bob")]
    assert store.get_order(db, first).history[1]["detail"] == {"by": second, "version": 2}
    with pytest.raises(Conflict, match="version 1 was replaced by version 2, prepared by bob at .*open version 2 instead"):
        store.verify(db, CAT, first)
    with pytest.raises(Conflict, match="version 2 of induction for MRN-100001, day 1 2026-05-29, was prepared by bob at"):
        prepare(db, computed, by=CAT, version=2, replaces=first)  # computed before bob's version 2 was kept
    assert [o["replaced_by"] for o in store.list_orders(db)] == [None, second]
    latest = store.History(db).latest("MRN-100001", "induction", START)
    assert (latest.id, latest.version, latest.replaces, latest.orders) == (second, 2, first, computed)
    assert latest.issued_at == new.prepared_at and latest.inputs == (EXAMPLES / "standard-risk.toml").read_bytes()
    assert store.History(db).latest("MRN-100001", "induction", "2026-06-05") is None


def test_the_history_names_the_last_issued_order(db, computed):
    assert store.History(db).last_for_patient("MRN-100001") is None
    order = issued(db, computed)
    prepare(db, computed, version=2, replaces=order)  # prepared, not issued: not what the ward was given
    last = store.History(db).last_for_patient("MRN-100001")
    issued_event = next(e for e in store.get_order(db, order).history if e["action"] == "issued")
    assert (last.id, last.version, last.issued_at, last.orders["weight_kg"]) == (order, 1, issued_event["at"], 6.4)


# -- every refusal -----------------------------------------------------------------------------------------------------

def test_only_a_pharmacist_prepares_verifies_issues_and_rejects(db, computed):
    for person in (NINA, ADA):
        with pytest.raises(NotAllowed, match=f"only a pharmacist may prepare an order; you are logged in as {person.name}, a {person.role}"):
            prepare(db, computed, by=person)
    order = prepare(db, computed)
    for person in (NINA, ADA):
        with pytest.raises(NotAllowed, match="only a pharmacist may verify an order"):
            store.verify(db, person, order)
        with pytest.raises(NotAllowed, match="only a pharmacist may reject an order"):
            store.reject(db, person, order, "the weight is a month old")
    store.verify(db, BOB, order)
    for person in (NINA, ADA):
        with pytest.raises(NotAllowed, match="only a pharmacist may issue an order"):
            store.issue(db, person, order, {"x.pdf": b"x"})
    store.issue(db, BOB, order, {"x.pdf": b"x"})
    for person in (ANN, ADA):
        with pytest.raises(NotAllowed, match="only a nurse may record an administration"):
            store.record_administration(db, person, order, 1, given=True, given_at=WHEN, given_by="NK", checked_by="JS", batch="L")
    assert actions(db, order) == [("prepared", "ann"), ("verified", "bob"), ("issued", "bob")]


def test_a_pharmacist_never_verifies_their_own_order(db, computed):
    order = prepare(db, computed)
    with pytest.raises(NotAllowed) as refused:
        store.verify(db, ANN, order)
    assert str(refused.value) == "you prepared this order; a different pharmacist must verify it"
    view = store.get_order(db, order)
    assert (view.state, view.revision, actions(db, order)) == ("prepared", 1, [("prepared", "ann")])


def test_issuing_an_unverified_order_is_refused(db, computed):
    order = prepare(db, computed)
    with pytest.raises(Conflict, match="^not verified yet: prepared by ann at 20.*a second pharmacist must verify it"):
        store.issue(db, BOB, order, {"x.pdf": b"x"})
    assert store.get_order(db, order).documents == []
    with pytest.raises(NotFound):
        store.document(db, "x.pdf")
    with pytest.raises(InputError) as empty:
        store.verify(db, BOB, order) or store.issue(db, BOB, order, {})
    assert empty.value.field == "documents"


def test_an_issued_file_name_is_never_taken_by_another_order(db, computed):
    first = issued(db, computed, name="same.pdf")
    other = prepare(db, computed, patient_id="MRN-200002")
    store.verify(db, BOB, other)
    with pytest.raises(Conflict, match="a document named same.pdf was issued already for another order"):
        store.issue(db, BOB, other, {"same.pdf": b"other"})
    assert store.get_order(db, other).state == "verified" and store.document(db, "same.pdf") == (first, b"%PDF-1.7 orders")
    assert [a for a, _ in actions(db, other)] == ["prepared", "verified"]  # the state change rolled back with its event


def test_rejected_and_issued_orders_cannot_be_verified_again(db, computed):
    rejected = prepare(db, computed)
    for reason in ("", "   ", "bad", "1234567890"):
        with pytest.raises(InputError) as no_reason:
            store.reject(db, BOB, rejected, reason)
        assert no_reason.value.field == "reason"
    store.reject(db, BOB, rejected, "  weight is from last month;  re-weigh ")
    assert store.get_order(db, rejected).history[-1]["reason"] == "weight is from last month; re-weigh"
    with pytest.raises(Conflict, match=r"cannot verify it: rejected by bob at .* \(weight is from last month; re-weigh\); prepare a new"):
        store.verify(db, CAT, rejected)
    with pytest.raises(Conflict, match="cannot issue it: rejected by bob"):
        store.issue(db, CAT, rejected, {"x.pdf": b"x"})
    with pytest.raises(Conflict, match="cannot reject it: rejected by bob"):
        store.reject(db, CAT, rejected, "another reason, in words")
    order = prepare(db, computed, version=2, replaces=rejected)
    store.verify(db, BOB, order)
    with pytest.raises(Conflict, match="cannot verify it: already verified by bob at"):
        store.verify(db, CAT, order)
    store.issue(db, CAT, order, {"y.pdf": b"y"})
    with pytest.raises(Conflict, match="cannot verify it: already issued by cat at"):
        store.verify(db, BOB, order)
    with pytest.raises(Conflict, match="cannot reject it: already issued by cat"):
        store.reject(db, BOB, order, "too late for this, it is issued")
    with pytest.raises(Conflict, match="already issued by cat"):
        store.issue(db, BOB, order, {"z.pdf": b"z"})
    assert store.get_order(db, order).revision == 3
    with pytest.raises(NotFound, match="there is no order nope"):
        store.verify(db, BOB, "nope")
    with pytest.raises(NotFound):
        store.get_order(db, "nope")


def test_administrations_are_refused_until_issued_and_when_incomplete(db, computed):
    order = prepare(db, computed)
    with pytest.raises(Conflict, match="this order is not issued yet \\(it is prepared\\)"):
        give(db, order, 1)
    store.verify(db, BOB, order)
    store.issue(db, BOB, order, {"x.pdf": b"x"})
    for item in (0, 63, "1", True):
        with pytest.raises(InputError, match="give a number from 1 to 62") as out_of_range:
            give(db, order, item)
        assert out_of_range.value.field == "item"
    for changes, field in (({"given_at": None}, "given_at"), ({"given_at": "2026-05-29 09:30"}, "given_at"),
                           ({"given_at": datetime(2099, 1, 1)}, "given_at"), ({"given_by": None}, "given_by"),
                           ({"given_by": "N"}, "given_by"), ({"given_by": "N1"}, "given_by"), ({"checked_by": "ABCDE"}, "checked_by"),
                           ({"checked_by": "nk"}, "checked_by"), ({"batch": "  "}, "batch"), ({"batch": None}, "batch")):
        with pytest.raises(InputError) as refused:
            give(db, order, 1, **changes)
        assert refused.value.field == field, changes
    for reason in (None, "", "  ", "-"):
        with pytest.raises(InputError) as no_reason:
            store.record_administration(db, NINA, order, 1, given=False, not_given_reason=reason)
        assert no_reason.value.field == "not_given_reason"
    assert store.get_order(db, order).administrations == []
    give(db, order, 1)
    with pytest.raises(Conflict, match="^item 1 is already recorded by nina at 20.*; record a correction instead$"):
        store.record_administration(db, NED, order, 1, given=False, not_given_reason="refused the dose")
    with pytest.raises(InputError) as unknown:
        give(db, order, 1, corrects=9999)
    assert unknown.value.field == "corrects"
    assert len(store.get_order(db, order).administrations) == 1


# -- races, run for real -----------------------------------------------------------------------------------------------

def race(n, step):
    """Run step(i) in n threads released together; what each returned or raised."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = step(i)
        except Exception as exc:  # noqa: BLE001 - the race's loser's refusal is the result under test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


PHARMACISTS = [Person(f"pharmacist{i}", "pharmacist") for i in range(8)]


def test_eight_pharmacists_verifying_at_once_verify_it_once(db, computed):
    order = prepare(db, computed)
    results = race(8, lambda i: store.verify(db, PHARMACISTS[i], order))
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert results.count(None) == 1 and len(conflicts) == 7, results
    winner = PHARMACISTS[results.index(None)].name
    assert all(f"already verified by {winner} at" in str(c) for c in conflicts)
    view = store.get_order(db, order)
    assert (view.state, view.revision) == ("verified", 2)
    assert [e["action"] for e in view.history] == ["prepared", "verified"] and view.history[1]["user"] == winner


def test_eight_pharmacists_issuing_at_once_issue_it_once(db, computed):
    order = prepare(db, computed)
    store.verify(db, BOB, order)
    results = race(8, lambda i: store.issue(db, PHARMACISTS[i], order, {"o.pdf": f"by {i}".encode()}))
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert results.count(None) == 1 and len(conflicts) == 7, results
    winner = results.index(None)
    assert all(f"already issued by pharmacist{winner} at" in str(c) for c in conflicts)
    view = store.get_order(db, order)
    assert (view.state, view.revision, len(view.documents)) == ("issued", 3, 1)
    assert store.document(db, "o.pdf") == (order, f"by {winner}".encode())
    assert [e["action"] for e in view.history] == ["prepared", "verified", "issued"]


def test_two_pharmacists_preparing_the_same_version_at_once(db, computed):
    results = race(2, lambda i: prepare(db, computed, by=PHARMACISTS[i]))
    assert sum(isinstance(r, str) for r in results) == 1 and sum(isinstance(r, Conflict) for r in results) == 1, results
    first = next(r for r in results if isinstance(r, str))
    results = race(2, lambda i: prepare(db, computed, by=PHARMACISTS[i + 2], version=2, replaces=first))
    assert sum(isinstance(r, str) for r in results) == 1 and sum(isinstance(r, Conflict) for r in results) == 1, results
    assert "was prepared by pharmacist" in str(next(r for r in results if isinstance(r, Conflict)))
    assert [o["version"] for o in store.list_orders(db)] == [2, 1]
    assert [a for a, _ in actions(db, first)] == ["prepared", "replaced"]


def test_two_nurses_recording_one_dose_at_once_record_it_once(db, computed):
    order = issued(db, computed)
    nurses = [Person(f"nurse{i}", "nurse") for i in range(4)]
    results = race(4, lambda i: store.record_administration(db, nurses[i], order, 1, given=True, given_at=WHEN, given_by="NK",
                                                             checked_by="JS", batch=f"LOT-{i}"))
    assert sum(isinstance(r, int) for r in results) == 1 and sum(isinstance(r, Conflict) for r in results) == 3, results
    assert all("record a correction instead" in str(r) for r in results if isinstance(r, Conflict))
    assert [r["current"] for r in store.get_order(db, order).administrations] == [True]
