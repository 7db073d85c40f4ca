"""The chain an order passes through: prepared -> verified -> issued (or rejected), then each dose recorded.

Every step is one transaction holding the change and its audit event: they
stand or fall together. A state change is ONE conditional UPDATE on the
state and revision the step read, so when two pharmacists verify or issue
one order at once, one UPDATE changes the row, the other changes nothing and
its pharmacist is told who was first (Conflict): never two events or a lost
update. Nothing is deleted: a new version replaces an older one, which keeps
its state. The refusals' words are shown to the user as they are (403
NotAllowed, 409 Conflict, 404 NotFound, 422 InputError).
"""

import json
import re
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from dosing.errors import InputError
from dosing.store import audit as trail
from dosing.store.models import Administration, Document, Draft, Event, Order
from dosing.store.views import History, OrderView, build, replaced_by

STATES = ("prepared", "verified", "rejected", "issued")
MIN_REASON = 10  # a rejection is read by the pharmacist who prepared the order: "wrong" tells them nothing to correct
INITIALS = re.compile(r"[A-Za-z]{2,4}")  # as nurses sign a chart: two to four letters
CLOCK_SLACK = timedelta(minutes=10)  # a ward computer's clock may run a little ahead of the server's


class NotAllowed(Exception):
    """This user's role may not take this step, or this user may not (their own order). HTTP 403."""


class Conflict(Exception):
    """The order is not in the state the step needs, someone else was first, or it is recorded already. HTTP 409."""


class NotFound(Exception):
    """No such order or document. HTTP 404."""


def _must_be(actor, role: str, doing: str) -> None:
    if actor.role != role:
        raise NotAllowed(f"only a {role} may {doing}; you are logged in as {actor.name}, a {actor.role}")


def _order(session, order_id: str, lock: bool = False) -> Order:
    query = select(Order).where(Order.id == str(order_id))
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"there is no order {order_id}; open it from the list of orders")
    return found


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")


def _last(session, order_id: str, *actions: str) -> Event | None:
    query = select(Event).where(Event.order_id == order_id)
    if actions:
        query = query.where(Event.action.in_(actions))
    return session.scalar(query.order_by(Event.id.desc()).limit(1))


def _why_not(session, order: Order, doing: str) -> Conflict:
    """Why `doing` cannot be done to the order as it is now, naming who did what to it and when."""
    newer = replaced_by(session, order)
    if newer is not None:
        new = session.get(Order, newer)
        return Conflict(f"cannot {doing}: version {order.version} was replaced by version {new.version}, prepared by "
                        f"{new.prepared_by} at {_when(new.prepared_at)}; open version {new.version} instead")
    last = _last(session, order.id, "prepared", "verified", "rejected", "issued", "imported")
    by = f"{last.user_name} at {_when(last.at)}" if last else "someone"
    if order.state == "prepared":
        return Conflict(f"not verified yet: prepared by {by}; a second pharmacist must verify it before it is issued")
    if order.state == "verified":
        return Conflict(f"cannot {doing}: already verified by {by}")
    if order.state == "rejected":
        return Conflict(f"cannot {doing}: rejected by {by} ({last.reason if last else 'no reason kept'}); "
                        "prepare a new version with the problem corrected")
    return Conflict(f"cannot {doing}: already issued by {by}")


def _move(session, actor, order: Order, new: str, doing: str, reason: str | None = None, detail: dict | None = None) -> None:
    """The state change itself: one conditional UPDATE on what was read, and its event, or Conflict naming who was first."""
    moved = session.execute(update(Order).where(Order.id == order.id, Order.state == order.state, Order.revision == order.revision)
                            .values(state=new, revision=Order.revision + 1).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        session.expire(order)  # read it again as the step that won left it
        raise _why_not(session, order, doing)
    trail.record(session, actor.name, actor.role, new, order_id=order.id, reason=reason, detail=detail)


def record_prepared(db, actor, *, patient_id, phase, start, version, replaces, changes: list[str], patient_toml: str, options: dict,
                    orders: dict, warnings: list[str], tool_version: str, regimen_sha256: str, drafts: list[tuple]) -> str:
    """A pharmacist's prepared order (the engine's result, computed by dosing.pharmacy), waiting for a second pharmacist."""
    _must_be(actor, "pharmacist", "prepare an order")
    start = start.isoformat() if isinstance(start, date) else str(start)
    order_id = uuid.uuid4().hex
    what = f"{phase} for {patient_id}, day 1 {start}"
    try:
        with db.transaction() as session:
            latest = session.scalar(select(Order).where(Order.patient_id == patient_id, Order.phase == phase, Order.start == start)
                                    .order_by(Order.version.desc()).limit(1).with_for_update())
            if (latest.version + 1 if latest else 1) != version or (latest.id if latest else None) != replaces:
                raise _newer(latest, version, what)
            session.add(Order(
                id=order_id, patient_id=patient_id, phase=phase, start=start, version=version, replaces=replaces, state="prepared",
                revision=1, changes="; ".join(changes), patient_toml=patient_toml, options=json.dumps(options, sort_keys=True),
                orders=json.dumps(orders, sort_keys=True), warnings=json.dumps(list(warnings)), tool_version=tool_version,
                regimen_sha256=regimen_sha256, prepared_by=actor.name, prepared_at=trail.now()))
            session.flush()  # the order first: the drafts and events name it
            session.add_all(Draft(order_id=order_id, position=n, kind=kind, title=title, html=html)
                            for n, (kind, title, html) in enumerate(drafts, start=1))
            trail.record(session, actor.name, actor.role, "prepared", order_id=order_id,
                         detail={"version": version, "replaces": replaces, "changes": list(changes)})
            if latest is not None:
                # The replaced version keeps its state, but its revision moves: a verify or issue of it that read it
                # before this commit now changes nothing and is told it was replaced.
                session.execute(update(Order).where(Order.id == latest.id).values(revision=Order.revision + 1)
                                .execution_options(synchronize_session=False))
                trail.record(session, actor.name, actor.role, "replaced", order_id=latest.id,
                             detail={"by": order_id, "version": version})
            session.flush()
    except IntegrityError:
        # PostgreSQL: another pharmacist's version with this number committed while this one was being written.
        with db.session() as session:
            latest = session.scalar(select(Order).where(Order.patient_id == patient_id, Order.phase == phase, Order.start == start)
                                    .order_by(Order.version.desc()).limit(1))
            raise _newer(latest, version, what) from None
    return order_id


def _newer(latest: Order | None, version: int, what: str) -> Conflict:
    if latest is None:
        return Conflict(f"version {version} of {what} names a version before it that this server does not hold; prepare it again")
    return Conflict(f"version {latest.version} of {what}, was prepared by {latest.prepared_by} at {_when(latest.prepared_at)} "
                    f"while this one (version {version}) was being computed; nothing was kept: prepare again to make the next version")


def verify(db, actor, order_id: str) -> None:
    """A second pharmacist checks the working and the warnings and verifies the order: prepared -> verified."""
    _must_be(actor, "pharmacist", "verify an order")
    with db.transaction() as session:
        order = _order(session, order_id)
        if order.prepared_by == actor.name:
            raise NotAllowed("you prepared this order; a different pharmacist must verify it")
        if order.state != "prepared" or replaced_by(session, order):
            raise _why_not(session, order, "verify it")
        _move(session, actor, order, "verified", "verify it")


def reject(db, actor, order_id: str, reason: str) -> None:
    """A pharmacist sends the order back, with what is wrong: prepared or verified -> rejected (never issued)."""
    _must_be(actor, "pharmacist", "reject an order")
    reason = _words(reason, "reason", MIN_REASON, "say what is wrong so the pharmacist who prepared it can correct it, "
                    "e.g. \"weight is from last month; re-weigh\"")
    with db.transaction() as session:
        order = _order(session, order_id)
        if order.state not in ("prepared", "verified"):
            raise _why_not(session, order, "reject it")
        _move(session, actor, order, "rejected", "reject it", reason=reason)


def issue(db, actor, order_id: str, files: dict[str, bytes]) -> None:
    """The verified order's documents issued to the ward: verified -> issued, the files kept with it."""
    _must_be(actor, "pharmacist", "issue an order")
    if not files:
        raise InputError("documents", "there are no documents to issue", "lay out the verified order's documents, then issue")
    from dosing.issue_log import sha256

    with db.transaction() as session:
        order = _order(session, order_id)
        if order.state != "verified" or replaced_by(session, order):
            raise _why_not(session, order, "issue it")
        # The state first: a second issuer's UPDATE changes nothing here, before it looks at or writes any document.
        _move(session, actor, order, "issued", "issue it", detail={"documents": sorted(files)})
        taken = session.scalars(select(Document.name).where(Document.name.in_(list(files)))).all()
        if taken:  # another order's file (this one was not issued until now): refused, and the state change rolled back
            raise Conflict(f"cannot issue it: a document named {taken[0]} was issued already for another order; "
                           "issued files are never overwritten")
        session.add_all(Document(order_id=order.id, name=name, sha256=sha256(content), content=content) for name, content in files.items())


def _words(text, field: str, least: int, fix: str) -> str:
    text = " ".join(str(text or "").split())
    if len(text) < least or not re.search(r"[^\W\d_]{2}", text):
        raise InputError(field, f"{text!r} is too short to say why (at least {least} characters, in words)" if text else
                         "is missing", fix)
    return text


def record_administration(db, actor, order_id: str, item: int, *, given: bool, given_at: datetime | None = None,
                          given_by: str | None = None, checked_by: str | None = None, batch: str | None = None,
                          not_given_reason: str | None = None, corrects: int | None = None) -> int:
    """A nurse's record of one item of an issued order (given: when, two initials, batch; or not given: why). Returns its id."""
    _must_be(actor, "nurse", "record an administration")
    given_by, checked_by, batch = (str(v).strip() if v is not None else None for v in (given_by, checked_by, batch))
    if given:
        _given(given_at, given_by, checked_by, batch)
    else:
        not_given_reason = _words(not_given_reason, "not_given_reason", 3, "say why it was not given, e.g. \"vomiting, held\"")
    with db.transaction() as session:
        order = _order(session, order_id, lock=True)  # one record at a time per order: two nurses never both record one item
        if order.state != "issued":
            raise Conflict(f"cannot record an administration: this order is not issued yet (it is {order.state}); "
                           "doses are recorded against the issued sheet")
        count = len(json.loads(order.orders).get("administrations", []))
        if not isinstance(item, int) or isinstance(item, bool) or not 1 <= item <= count:
            raise InputError("item", f"{item!r} is not an administration of this order", f"give a number from 1 to {count}")
        records = session.scalars(select(Administration).where(Administration.order_id == order.id, Administration.item == item)).all()
        corrected = {r.corrects for r in records}
        current = next((r for r in records if r.id not in corrected), None)
        if corrects is None and current is not None:
            raise Conflict(f"item {item} is already recorded by {current.recorded_by} at {_when(current.recorded_at)}; "
                           "record a correction instead")
        if corrects is not None:
            _correctable(session, order.id, item, corrects, current)
        record = Administration(order_id=order.id, item=item, given=bool(given), given_at=given_at if given else None, given_by=given_by,
                                checked_by=checked_by, batch=batch, not_given_reason=None if given else not_given_reason,
                                recorded_by=actor.name, recorded_at=trail.now(), corrects=corrects)
        session.add(record)
        session.flush()
        action = "corrected" if corrects is not None else "given" if given else "not_given"
        trail.record(session, actor.name, actor.role, action, order_id=order.id, reason=None if given else not_given_reason,
                     detail={"item": item, "record": record.id, "corrects": corrects, "given_by": given_by, "checked_by": checked_by,
                             "batch": batch, "given_at": given_at.isoformat(timespec="minutes") if given and given_at else None})
        return record.id


def _given(given_at, given_by, checked_by, batch) -> None:
    if not isinstance(given_at, datetime):
        raise InputError("given_at", f"{given_at!r} is not a date and time" if given_at else "the time it was given is missing",
                         "give the date and time it was given, YYYY-MM-DD HH:MM")
    if given_at > datetime.now() + CLOCK_SLACK:
        raise InputError("given_at", f"{given_at:%Y-%m-%d %H:%M} is in the future", "give the time the dose was given")
    for field, initials in (("given_by", given_by), ("checked_by", checked_by)):
        if not initials or not INITIALS.fullmatch(initials):
            raise InputError(field, f"{initials!r} are not initials" if initials else "the initials are missing",
                             "give 2 to 4 letters: the nurse who gave it, and a second nurse who checked it")
    if given_by.upper() == checked_by.upper():
        raise InputError("checked_by", f"the same initials ({given_by}) gave and checked the dose",
                         "a second nurse checks it: give their initials")
    if not batch:
        raise InputError("batch", "the batch number is missing", "copy the batch (lot) number from the product's label")


def _correctable(session, order_id: str, item: int, corrects, current) -> None:
    """A correction names the current record of the same order and item (the old one stays, no longer current)."""
    old = session.get(Administration, corrects) if isinstance(corrects, int) and not isinstance(corrects, bool) else None
    if old is None or old.order_id != order_id or old.item != item:
        raise InputError("corrects", f"record {corrects!r} is not a record of item {item} of this order",
                         "correct the record shown for this item")
    if current is None or current.id != old.id:
        raise Conflict(f"record {old.id} was already corrected by record {current.id} ({current.recorded_by} at "
                       f"{_when(current.recorded_at)}); correct that one instead")


def get_order(db, order_id: str) -> OrderView:
    with db.session() as session:
        return build(session, _order(session, order_id))


def list_orders(db, state: str | None = None, patient_id: str | None = None, limit: int = 200) -> list[dict]:
    """The orders, newest first."""
    if state is not None and state not in STATES:
        raise InputError("state", f"{state!r} is not a state of an order", f"give one of {', '.join(STATES)}")
    query = select(Order)
    if state is not None:
        query = query.where(Order.state == state)
    if patient_id is not None:
        query = query.where(Order.patient_id == patient_id)
    with db.session() as session:
        rows = session.scalars(query.order_by(Order.prepared_at.desc(), Order.version.desc()).limit(limit)).all()
        return [{"id": o.id, "patient_id": o.patient_id, "phase": o.phase, "start": o.start, "version": o.version, "state": o.state,
                 "prepared_by": o.prepared_by, "prepared_at": o.prepared_at.isoformat(timespec="seconds"),
                 "replaced_by": replaced_by(session, o)} for o in rows]


def document(db, name: str) -> tuple[str, bytes]:
    """An issued file by its name: (the order's id, its bytes)."""
    with db.session() as session:
        found = session.scalar(select(Document).where(Document.name == name))
        if found is None:
            raise NotFound(f"there is no issued document {name}; open the order to see its documents")
        if found.content is None:
            raise NotFound(f"{name} was imported from an issue log without its file; the file is still in the folder it was issued into")
        return found.order_id, found.content


def audit(db) -> list[dict]:
    """Every event, oldest first (the module dosing.store.audit is `trail` here, so this name can be the contract's)."""
    with db.session() as session:
        return [trail.as_dict(e) for e in session.scalars(select(Event).order_by(Event.id))]
