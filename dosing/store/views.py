"""An order as the page and the API show it: the order, its documents, the administrations recorded and the totals so far.

Read-only: built from the rows orders.py writes, never written back. The
totals are worked from the order's own JSON administrations (the same as
`dosing sheet --format json`), so what the nurse records is counted against
exactly what the pharmacists verified.
"""

import json
from decimal import Decimal

import attrs
from sqlalchemy import select

from dosing.store import audit
from dosing.store.models import Administration, Document, Draft, Event, Order


@attrs.frozen
class OrderView:
    id: str
    patient_id: str
    phase: str
    start: str  #: day 1, YYYY-MM-DD
    version: int
    state: str  #: prepared, verified, rejected or issued (orders.STATES)
    revision: int
    replaces: str | None  #: the order id of the version before
    replaced_by: str | None  #: the order id of the next version, once one is prepared
    changes: str  #: what changed from the version it replaces, in words
    prepared_by: str
    prepared_at: str  #: iso, to the second
    patient_toml: str
    options: dict
    orders: dict  #: the JSON orders
    warnings: list
    drafts: list  #: dict kind, title, html: what the verifier sees
    documents: list  #: dict name, sha256: the issued files
    history: list  #: audit dicts, oldest first
    administrations: list  #: every record made, corrected ones too (current False)
    totals: list  #: per drug and route, see totals()

    def as_json(self) -> dict:
        """The order for the API: everything but the drafts' HTML; each JSON administration with its item number and current record."""
        said = attrs.asdict(self, recurse=False)
        said["drafts"] = [{"kind": d["kind"], "title": d["title"]} for d in self.drafts]
        said["records"] = self.administrations
        current = {r["item"]: r for r in self.administrations if r["current"]}
        said["administrations"] = [{**a, "item": item, "recorded": current.get(item)}
                                   for item, a in enumerate(self.orders.get("administrations", []), start=1)]
        return said


def build(session, order: Order) -> OrderView:
    """The view of one order row (in the caller's session)."""
    records = session.scalars(select(Administration).where(Administration.order_id == order.id).order_by(Administration.id)).all()
    corrected = {r.corrects for r in records if r.corrects is not None}
    administrations = [_record(r, r.id not in corrected) for r in records]
    orders = json.loads(order.orders)
    drafts = session.scalars(select(Draft).where(Draft.order_id == order.id).order_by(Draft.position)).all()
    documents = session.execute(select(Document.name, Document.sha256).where(Document.order_id == order.id).order_by(Document.id)).all()
    events = session.scalars(select(Event).where(Event.order_id == order.id).order_by(Event.id)).all()
    return OrderView(
        id=order.id, patient_id=order.patient_id, phase=order.phase, start=order.start, version=order.version, state=order.state,
        revision=order.revision, replaces=order.replaces, replaced_by=replaced_by(session, order), changes=order.changes,
        prepared_by=order.prepared_by, prepared_at=order.prepared_at.isoformat(timespec="seconds"), patient_toml=order.patient_toml,
        options=json.loads(order.options), orders=orders, warnings=json.loads(order.warnings),
        drafts=[{"kind": d.kind, "title": d.title, "html": d.html} for d in drafts],
        documents=[{"name": name, "sha256": digest} for name, digest in documents],
        history=[audit.as_dict(e) for e in events], administrations=administrations,
        totals=totals(orders.get("administrations", []), administrations))


def replaced_by(session, order: Order) -> str | None:
    """The next version prepared for the same patient, phase and day 1 (the one that replaces this), if any."""
    return session.scalar(select(Order.id).where(Order.patient_id == order.patient_id, Order.phase == order.phase,
                                                 Order.start == order.start, Order.version > order.version)
                          .order_by(Order.version).limit(1))


def _record(r: Administration, current: bool) -> dict:
    return {"item": r.item, "id": r.id, "given": r.given,
            "given_at": r.given_at.isoformat(timespec="minutes") if r.given_at else None, "given_by": r.given_by,
            "checked_by": r.checked_by, "batch": r.batch, "not_given_reason": r.not_given_reason, "recorded_by": r.recorded_by,
            "recorded_at": r.recorded_at.isoformat(timespec="seconds"), "corrects": r.corrects, "current": current}


def totals(administrations: list[dict], records: list[dict]) -> list[dict]:
    """Per drug and route (in the order the sheet lists them): planned and given so far, in the dose's unit.

    Each JSON administration is one item: a drug by one route on one day, its
    `dose` the day's total (times_per_day doses of dose_each). An item counts
    as given, not given or open by its current record only: a corrected
    record no longer counts. Sums are decimal, so 28 days of 1.35 mg are
    37.8 mg, not 37.800000000000004.
    """
    current = {r["item"]: r for r in records if r["current"]}
    found: dict[tuple, dict] = {}
    for item, a in enumerate(administrations, start=1):
        row = found.setdefault((a["drug"], a["route"], a["unit"]), {
            "drug": a["drug"], "route": a["route"], "unit": a["unit"], "planned": Decimal(0), "given": Decimal(0),
            "doses_given": 0, "doses_not_given": 0, "doses_open": 0})
        dose = Decimal(str(a["dose"]))
        row["planned"] += dose
        record = current.get(item)
        if record is None:
            row["doses_open"] += 1
        elif record["given"]:
            row["given"] += dose
            row["doses_given"] += 1
        else:
            row["doses_not_given"] += 1
    return [{**row, "planned": float(row["planned"]), "given": float(row["given"])} for row in found.values()]


class History:
    """Earlier versions as dosing.issuing.prepare looks them up (issue_log.Issue), from the server's orders instead of a folder's log."""

    def __init__(self, db):
        self.db = db

    def latest(self, patient_id: str, phase: str, start: str):
        """The newest version for this patient, phase and day 1, in whatever state (the next one replaces it)."""
        with self.db.session() as session:
            order = session.scalar(select(Order).where(Order.patient_id == patient_id, Order.phase == phase, Order.start == str(start))
                                   .order_by(Order.version.desc()).limit(1))
            return _issue(order, order.prepared_at) if order else None

    def last_for_patient(self, patient_id: str):
        """The order last issued to this patient (for the weight-change warning), dated when it was issued."""
        with self.db.session() as session:
            found = session.execute(select(Order, Event.at).join(Event, Event.order_id == Order.id)
                                    .where(Order.patient_id == patient_id, Order.state == "issued",
                                           Event.action.in_(("issued", "imported")))
                                    .order_by(Event.at.desc(), Event.id.desc()).limit(1)).first()
            return _issue(*found) if found else None


def _issue(order: Order, at):
    from dosing.issue_log import Issue, sha256

    inputs = order.patient_toml.encode("utf-8")
    return Issue(id=order.id, issued_at=at.isoformat(timespec="seconds"), patient_id=order.patient_id, phase=order.phase,
                 start=order.start, version=order.version, replaces=order.replaces, changes=order.changes,
                 tool_version=order.tool_version, inputs_sha256=sha256(inputs), inputs=inputs, regimen_sha256=order.regimen_sha256,
                 options=json.loads(order.options), orders=json.loads(order.orders))
