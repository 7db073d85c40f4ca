"""The JSON API's refusals: each error as {"error", "field", "fix"} with its status, and the words the engine uses turned into the API's.

Registered on the API's blueprint by dosing.web.api; the database's silence
(503) is registered app-wide too, since the team's guard asks the database for
the session before any page or route runs.
"""

import re
import sys
import traceback

import flask
from werkzeug.exceptions import HTTPException

from dosing.errors import InputError, RegimenError
from dosing.web import auth


def refusal(status: int, error: str, fix: str = "", field: str | None = None, headers: dict | None = None):
    body = {"error": error, **({"field": field} if field else {}), **({"fix": fix} if fix else {})}
    return flask.make_response(flask.jsonify(body), status, headers or {})


def api_words(text: str) -> str:
    """The engine's words name command-line options (--reissue "REASON"); the API's caller sends JSON fields."""
    return re.sub(r'--([a-z][a-z-]*)( "[A-Z]+")?', lambda m: f'"{api_field("--" + m[1])}"' + (f":{m[2]}" if m[2] else ""), text)


def api_field(name: str) -> str:
    """An engine field as the API names it: --bag-hours -> bag_hours, --window-from -> from, output -> reissue."""
    if name.startswith("--"):
        name = name[2:].replace("-", "_")
    return {"window_from": "from", "output": "reissue"}.get(name, name)


def register(api, accounts, orders) -> None:
    """Every refusal as JSON with its status; a fault of ours logged and answered with a sentence, never a bare 500 page."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    @api.errorhandler(InputError)
    def bad_input(exc):
        return refusal(422, api_words(exc.problem), api_words(exc.fix), api_field(exc.field) if exc.field else None)

    @api.errorhandler(RegimenError)
    def bad_regimen(exc):
        return refusal(422, f"regimen data: {exc}", "the regimen data on this server needs correcting; tell whoever keeps it")

    @api.errorhandler(orders.NotAllowed)
    def not_allowed(exc):
        return refusal(403, str(exc))

    @api.errorhandler(orders.Conflict)
    def conflict(exc):
        return refusal(409, str(exc), "reload the order to see its state")

    @api.errorhandler(orders.NotFound)
    def not_found(exc):
        return refusal(404, str(exc))

    @api.errorhandler(accounts.Throttled)
    def throttled(exc):
        return refusal(429, str(exc), "wait, then try again", headers={"Retry-After": str(exc.retry_after)})

    @api.errorhandler(HTTPException)
    def http(exc):
        return refusal(exc.code or 400, exc.description or exc.name)

    @api.app_errorhandler(404)
    @api.app_errorhandler(405)
    def unrouted(exc):  # no route matched, so the blueprint's own handlers are not asked: JSON for /api/ only
        return refusal(exc.code, f"{flask.request.method} {flask.request.path}: {exc.name.lower()}") if auth.is_api() else exc

    @api.errorhandler(OperationalError)  # before the blueprint's own last resort below, which would catch it first
    @api.errorhandler(InterfaceError)
    @api.app_errorhandler(OperationalError)  # and app-wide: the guard asks for the session before any page or route runs
    @api.app_errorhandler(InterfaceError)
    def unreachable(exc):
        print(f"dosing: the database did not answer: {exc}", file=sys.stderr)
        if auth.is_api():
            return refusal(503, "the pharmacy database did not answer", "try again in a moment", headers={"Retry-After": "5"})
        return flask.Response("The pharmacy database did not answer. Nothing was changed; try again in a moment.", 503,
                              {"Retry-After": "5", "Content-Type": "text/plain; charset=utf-8"})

    @api.errorhandler(Exception)
    def fault(exc):  # the last resort: a fault of ours, never something a request may cause (tests/test_api.py sweeps for it)
        traceback.print_exception(exc, file=sys.stderr)
        return refusal(500, "the server failed to answer this request; it is logged", "tell whoever runs the server")
