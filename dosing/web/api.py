"""The pharmacy server's JSON API (../shared/protocol/interfaces.md, "The pharmacy server"): HTTP only.

Each route reads its JSON, calls dosing.pharmacy or dosing.store (where the
chain's rules live) and answers JSON. Every route but login needs a session
(401), every write the session's CSRF token in X-CSRF-Token (403), and a role
that may take the step (403). Refusals are JSON {"error", "field", "fix"}:
bad input 422, a wrong state 409, too many failed logins 429 with Retry-After,
an unknown order 404, a body that is not a JSON object 400, no database 503. Never 500 for
anything a request can send; a fault of our own is logged and answered with a sentence.
"""

import json
import re

import flask

from dosing.errors import InputError
from dosing.printer import PrinterError
from dosing.requests import (OptionError, Request, parse_bag_hours, parse_clock, parse_date, parse_documents, parse_moment,
                             parse_reason, parse_weeks)
from dosing.web import api_errors, auth
from dosing.web.api_errors import refusal

#: the sheet options POST /api/orders reads, by the command line's names -> (the Request's name, its parser)
SHEET_OPTIONS = {"infusion_start": ("infusion_start", parse_clock), "weeks": ("weeks", parse_weeks), "from": ("window_from", parse_date),
                 "bag_hours": ("bag_hours", parse_bag_hours), "documents": ("documents", parse_documents),
                 "override_pathway": ("override_pathway", parse_reason), "reissue": ("reissue", parse_reason),
                 "override_dates": ("override_dates", parse_reason), "override_results": ("override_results", parse_reason),
                 "substitute": ("substitute", str)}
ADMINISTRATION_FIELDS = ("item", "given", "given_at", "given_by", "checked_by", "batch", "not_given_reason", "corrects")
#: an order's id as the store makes them (uuid4 hex): anything else is not looked up
ORDER_ID = re.compile(r"^[0-9a-f]{32}$")


def blueprint(database, protocol, regimens, layout) -> flask.Blueprint:
    """The API's routes under /api, on this database and regimen data; PDFs laid out by `layout` (dosing.printing.pool.Layout)."""
    from dosing import pharmacy
    from dosing.store import accounts, orders

    api = flask.Blueprint("api", __name__, url_prefix="/api")
    api.record_once(lambda state: auth.use(state.app, database))
    writer = auth.writes

    @api.post("/login")
    def login():
        body = _body()
        name, password = _text(body, "user"), _text(body, "password")
        found = accounts.log_in(database, name, password, flask.request.remote_addr or "unknown")
        if found is None:
            return refusal(401, "unknown user or wrong password", "check the user name and the password")
        user, token = found
        flask.g.dosing_user = user
        return auth.set_session_cookie(flask.jsonify(_me(user)), token)

    @api.post("/logout")
    @writer()
    def logout():
        accounts.log_out(database, flask.request.cookies.get(auth.COOKIE, ""))
        return auth.clear_session_cookie(flask.jsonify({"logged_out": True}))

    @api.get("/me")
    @auth.require()
    def me():
        return flask.jsonify(_me(auth.current_user()))

    @api.get("/orders")
    @auth.require()
    def order_list():
        state = flask.request.args.get("state") or None
        if state is not None and state not in orders.STATES:
            raise InputError("state", f"{state!r} is not a state an order can be in", f"ask for one of: {', '.join(orders.STATES)}")
        patient = _text({"patient": flask.request.args.get("patient") or None}, "patient", required=False)
        return flask.jsonify({"orders": orders.list_orders(database, state=state, patient_id=patient)})

    @api.post("/orders")
    @writer("pharmacist")
    def prepare():
        body = _body()
        known = {"patient_toml", "phase", "start", *SHEET_OPTIONS}
        if unknown := sorted(set(body) - known):
            raise InputError(unknown[0], "is not something an order is prepared with", f"send only: {', '.join(sorted(known))}")
        patient_toml, phase = _text(body, "patient_toml"), _text(body, "phase")
        request = _sheet_request(body)
        order = pharmacy.prepare_order(database, auth.current_user(), protocol, patient_toml, phase, request, layout)
        return flask.jsonify(order.as_json()), 201, {"Location": f"/api/orders/{order.id}"}

    @api.get("/orders/<order_id>")
    @auth.require()
    def order(order_id):
        return flask.jsonify(orders.get_order(database, _order_id(order_id)).as_json())

    @api.post("/orders/<order_id>/verify")
    @writer("pharmacist")
    def verify(order_id):
        _body()
        orders.verify(database, auth.current_user(), _order_id(order_id))
        return flask.jsonify({"id": order_id, "state": "verified"})

    @api.post("/orders/<order_id>/reject")
    @writer("pharmacist")
    def reject(order_id):
        reason = _text(_body(), "reason")
        orders.reject(database, auth.current_user(), _order_id(order_id), reason)
        return flask.jsonify({"id": order_id, "state": "rejected"})

    @api.post("/orders/<order_id>/issue")
    @writer("pharmacist")
    def issue(order_id):
        _body()
        try:
            issued = pharmacy.issue_order(database, auth.current_user(), _order_id(order_id), layout)
        except PrinterError as exc:
            return refusal(503, str(exc), "issue it again; if the printer keeps stopping, restart the server and tell its keeper")
        urls = [flask.url_for("api.document", order_id=issued.id, name=d["name"]) for d in issued.documents]
        return flask.jsonify({"id": issued.id, "state": issued.state, "documents": urls})

    @api.post("/orders/<order_id>/administrations")
    @writer("nurse")
    def administration(order_id):
        body = _body()
        if unknown := sorted(set(body) - set(ADMINISTRATION_FIELDS)):
            raise InputError(unknown[0], "is not part of an administration record", f"send only: {', '.join(ADMINISTRATION_FIELDS)}")
        given = body.get("given")
        if not isinstance(given, bool):
            raise InputError("given", "must be true (the dose was given) or false (it was not)", 'send "given": true or false')
        fields = {name: _text(body, name, required=False) for name in ("given_by", "checked_by", "batch", "not_given_reason")}
        given_at = _text(body, "given_at", required=False)
        record_id = orders.record_administration(
            database, auth.current_user(), _order_id(order_id), _whole(body, "item"), given=given,
            given_at=_parsed("given_at", parse_moment, given_at) if given_at else None, corrects=_whole(body, "corrects", required=False),
            **fields)
        return flask.jsonify({"id": record_id, "order": order_id, "item": body["item"]}), 201

    @api.get("/orders/<order_id>/documents/<name>")
    @auth.require()
    def document(order_id, name):
        owner, content = orders.document(database, name)
        if owner != _order_id(order_id):
            raise orders.NotFound(f"order {order_id} has no document {name}")
        response = flask.make_response(content)
        response.headers["Content-Type"] = "application/pdf" if name.endswith(".pdf") else "application/octet-stream"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'  # names are safe_stem's: no quotes
        return response

    @api.get("/audit")
    @auth.require("admin")
    def audit():
        return flask.jsonify({"events": orders.audit(database)})

    api_errors.register(api, accounts, orders)
    return api


# -- reading the request ------------------------------------------------------------------------

def _body() -> dict:
    """The request's JSON object ({} for an empty body); anything else is refused with a sentence (400)."""
    raw = flask.request.get_data(cache=True)
    if not raw.strip():
        return {}
    if not flask.request.is_json:
        flask.abort(refusal(400, "the body is not JSON", "send a JSON object with Content-Type: application/json"))
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the reader goes
        flask.abort(refusal(400, "the body is not readable JSON", "send one JSON object, UTF-8 encoded"))
    if not isinstance(data, dict):
        flask.abort(refusal(400, f"the body is a JSON {type(data).__name__}, not an object", 'send a JSON object, e.g. {"user": "..."}'))
    return data


def _text(body: dict, field: str, required: bool = True) -> str | None:
    """A string field: present (when required), text, storable (no NUL, no lone surrogate)."""
    value = body.get(field)
    if value is None:
        if required:
            raise InputError(field, "is needed", f'send "{field}"')
        return None
    if not isinstance(value, str):
        raise InputError(field, f"must be text, not a JSON {type(value).__name__}", f'send "{field}" as a string')
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(field, "holds characters that are not text (a lone surrogate)", "send UTF-8 text") from None
    if "\x00" in value:
        raise InputError(field, "holds a NUL character", "remove it; no field of a patient file or an order needs one")
    return value


def _whole(body: dict, field: str, required: bool = True) -> int | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**9:
        raise InputError(field, f"must be a whole number from 1, got {json.dumps(value)}", f'send "{field}" as a number, e.g. 1')
    return value


def _parsed(field: str, parse, text: str):
    try:
        return parse(text)
    except OptionError as exc:
        raise InputError(field, str(exc)) from None


def _sheet_request(body: dict) -> Request:
    """The sheet's options from the JSON, read with the command line's own parsers (dosing.requests)."""
    start = _parsed("start", parse_date, _text(body, "start"))
    options = {}
    for name, (attribute, parse) in SHEET_OPTIONS.items():
        value = body.get(name)
        if name == "documents" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(value)
        elif name in ("weeks", "bag_hours") and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = _text({name: value}, name, required=False)
        if text is not None:
            options[attribute] = _parsed(name, parse, text)
    return Request(start=start, out=None, **options)


def _order_id(text: str) -> str:
    from dosing.store.orders import NotFound

    if not ORDER_ID.match(text):
        raise NotFound(f"there is no order {text[:40]!r}")
    return text


def _me(user) -> dict:
    return {"user": user.name, "role": user.role, "csrf_token": user.csrf_token}
