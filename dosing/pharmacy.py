"""The engine's work for the pharmacy server: an order prepared, previewed or issued, between the web and the store.

The server computes an order exactly as `dosing sheet` does (dosing.issuing.prepare),
only looking earlier versions up in the database (dosing.store.orders.History)
instead of an output folder's issue log, and hands the results to
dosing.store.orders to be kept. The web (dosing.web.api, dosing.web.team) calls
these three functions and nothing deeper, so the chain's rules live in the
store and the dose computation in the engine, each once.
"""

import tempfile
from datetime import date
from pathlib import Path

import attrs

from dosing.errors import InputError


def prepare_order(db, user, protocol, patient_toml: str, phase: str, request, layout=None):
    """Compute a phase's orders from a patient file's text and record them as a prepared order (a pharmacist's step).

    The role is checked before the computation (half a second) so a nurse is
    told at once; InputError, RegimenError, NotAllowed and Conflict pass up.
    With `layout` (dosing.printing.pool.Layout), the drafts are laid out ahead,
    when the printer is idle, into its cache: the Issue, which lays out exactly
    these drafts, then finds them laid out.
    """
    from dosing import __version__
    from dosing.documents import render
    from dosing.store import orders

    _must_be_pharmacist(user, "prepare an order")
    pending = _pending(db, protocol, patient_toml, phase, request)
    drafts = [(d.kind, d.title, render.html(d)) for d in pending.documents]
    order_id = orders.record_prepared(
        db, user, patient_id=pending.patient.id, phase=phase, start=pending.orders.start.isoformat(), version=pending.version,
        replaces=pending.previous.id if pending.previous else None, changes=list(pending.changes), patient_toml=patient_toml,
        options=pending.options, orders=pending.computed, warnings=warnings(pending), tool_version=__version__,
        regimen_sha256=pending.regimen_sha256, drafts=drafts)
    if layout is not None:
        layout.ahead([html for _, _, html in drafts])
    return orders.get_order(db, order_id)


def preview_order(db, protocol, patient_toml: str, phase: str, request) -> dict:
    """The documents as they would be prepared, recording nothing: {"frames": [{title, kind, html}], "version", "notes"}."""
    from dosing.documents import render

    pending = _pending(db, protocol, patient_toml, phase, request)
    frames = [{"title": d.title, "kind": d.kind, "html": render.html(d)} for d in pending.documents]
    return {"frames": frames, "version": pending.version, "notes": warnings(pending)}


def issue_order(db, user, order_id: str, layout):
    """Lay out a verified order's PDFs from the drafts the verifier saw, and issue them.

    `layout` (dosing.printing.pool.Layout) lays them out on the server's printer,
    beside other requests' documents, or finds them in its cache (laid out
    ahead when the order was prepared). Role and state are checked first, so a
    nurse or an order not verified is told at once; of several pharmacists
    pressing Issue at once, the printer lays the same documents out once for
    all of them, and orders.issue, checking the state again in its own
    transaction, lets only the first issue them: the others are told it is issued.
    PrinterError (the printer stopped) passes up, and nothing is issued.
    """
    from dosing.output import safe_stem
    from dosing.store import orders

    _must_be_pharmacist(user, "issue an order")
    order = orders.get_order(db, order_id)
    _must_be_verified(order)
    stem = safe_stem(order.patient_id, order.phase, date.fromisoformat(order.start))
    stem += f"_v{order.version}" if order.version > 1 else ""
    pdfs = layout.pdfs([d["html"] for d in order.drafts])
    orders.issue(db, user, order_id, {f"{stem}_{d['kind']}.pdf": pdf for d, pdf in zip(order.drafts, pdfs, strict=True)})
    return orders.get_order(db, order_id)


def warnings(pending) -> list[str]:
    """The sheet's warnings, with Tall Man names as the sheets print them (docs/safety.md); the single-user page shows the same."""
    from dosing.documents.wording import sentences
    from dosing.formatting import tall_man

    names = pending.documents[0].context["tall_man"]
    return [tall_man(warning, names) for warning in sentences(pending.orders.findings)]


def _pending(db, protocol, patient_toml: str, phase: str, request):
    """issuing.prepare on the text, written to a scratch file of our own (never a place a user chose), history from the database."""
    from dosing.issuing import prepare
    from dosing.store import orders

    chosen = _phase(protocol, phase)
    try:
        content = patient_toml.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("patient_toml", "the patient file holds characters that are not text (a lone surrogate)",
                         "send the patient file as UTF-8 text") from None
    with tempfile.TemporaryDirectory(prefix="dosing-pharmacy-") as scratch:
        path = Path(scratch) / "patient.toml"
        path.write_bytes(content)
        # format pdf: the documents are built (json would return the orders alone); with a history nothing is written to `out`
        asked = attrs.evolve(request, out=Path(scratch), format="pdf")
        # preview=True: the engine's refusal of unchanged inputs speaks of an issued sheet; the check is made below, in our words
        pending = prepare(path, protocol, chosen, asked, preview=True, history=orders.History(db))
    if pending.previous is not None and not pending.changes:  # a preview too: never "VERSION 2 ... What changed: ."
        raise _unchanged(orders.get_order(db, pending.previous.id))
    return pending


def _unchanged(order) -> InputError:
    """The engine's refusal of unchanged inputs (dosing.output.AlreadyIssued), in the server's words: the earlier order may not be issued."""
    from dosing.output import AlreadyIssued

    return AlreadyIssued(
        "reissue", f"nothing has changed since version {order.version} of this order ({order.phase} for {order.patient_id}, day 1 "
        f"{order.start}), {order.state}, prepared by {order.prepared_by} at {order.prepared_at}",
        f"open version {order.version} (order {order.id}); to prepare a new version anyway give a reason in \"reissue\"")


def _phase(protocol, name: str):
    from dosing.regimen import load_phase

    if not isinstance(name, str) or name not in protocol.phases:
        raise InputError("phase", f"{name!r} is not a phase of {protocol.directory.name}",
                         f"choose one of: {', '.join(protocol.phases)}")
    return load_phase(protocol, name)


def _must_be_pharmacist(user, what: str) -> None:
    from dosing.store.orders import NotAllowed

    if user.role != "pharmacist":
        raise NotAllowed(f"{user.name} is a {user.role}; only a pharmacist may {what}")


def _must_be_verified(order) -> None:
    from dosing.store.orders import Conflict

    if order.state != "verified":
        raise Conflict(f"order {order.id} is {order.state}; only a verified order can be issued"
                       + (" (a second pharmacist verifies it first)" if order.state == "prepared" else ""))
