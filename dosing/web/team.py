"""The pharmacy team's server: what app.py calls in team mode (`dosing serve` with a database that has users).

- `install`: the JSON API (dosing.web.api) and the team's pages (team_pages) on the app;
- `guard`: before every request, after the Host check: nothing but the login
  page (and POST /api/login) answers without a session, and every POST carries
  the session's own form token (no cross-site posts);
- `page_context`: who is logged in, and their form token, for page.html;
- `prepare_from_form`: the page's "Prepare for verification" button.

Who may do what is decided once, in dosing.store.orders (a pharmacist
prepares, another verifies, only a verified order is issued, nurses record
administrations); the pages only offer the steps that fit and show the
store's refusal when one is tried anyway.
"""

from pathlib import Path

import flask

from dosing.web import auth, team_pages

#: what answers without a session: the login page, and the API's login
OPEN = {("GET", "/login"), ("HEAD", "/login"), ("POST", "/login"), ("POST", "/api/login")}


def install(app: flask.Flask, database, protocol, regimens, layout) -> None:
    """The API under /api and the pages /login, /logout, /orders, /orders/<id>, its documents, and /audit."""
    from dosing.web import api

    app.extensions[team_pages.KEY] = team_pages.Team(database=database, protocol=protocol, regimens=regimens,
                                                      layout=layout)
    app.register_blueprint(api.blueprint(database, protocol, regimens, layout))
    app.register_blueprint(team_pages.blueprint())


def guard():
    """None to go on; otherwise the answer: the login page for a page, 401 for the API, 403 for a foreign post."""
    request = flask.request
    if (request.method, request.path) in OPEN:
        return None  # no session yet, so no session token: the login form carries its own (team_pages.login)
    if auth.current_user() is None:
        if request.path.startswith("/api/"):
            return auth.not_logged_in()
        wanted = request.path + (f"?{request.query_string.decode('latin-1')}" if request.query_string else "")
        return flask.redirect(flask.url_for("team.login", next=wanted if request.method == "GET" else None), 303)
    if request.method == "POST":
        auth.check_csrf()
    return None


def page_context() -> dict:
    """What page.html needs in team mode: the user logged in and the session's form token."""
    return {"user": auth.current_user(), "token": auth.csrf_token()}


def prepare_from_form(values: dict, patient_path: Path, protocol, regimens) -> flask.Response:
    """The form's patient file and sheet options prepared as an order for another pharmacist to verify (303 to it).

    Bad input (InputError, RegimenError) is the page's to show beside its box, so
    it passes up; a refusal by the chain (a nurse preparing, a version prepared
    at the same moment by someone else) is shown on the team's refusal page.
    """
    from dosing import pharmacy
    from dosing.store import orders
    from dosing.web.form import phase_name, sheet_request

    phase = phase_name(values)
    request = sheet_request(values, patient_path.parent)  # nothing is written there: earlier versions are in the database
    try:
        view = pharmacy.prepare_order(team_pages.current().database, auth.current_user(), protocol,
                                      patient_path.read_text(encoding="utf-8"), phase, request, team_pages.current().layout)
    except (orders.NotAllowed, orders.Conflict) as exc:
        return team_pages.refusal(exc)
    return flask.redirect(flask.url_for("team.order", order_id=view.id), 303)

