"""The team's pages: log in and out, the work lists, an order (its working, the chain's steps, the administration record), the audit.

Server-rendered, no script (the Content-Security-Policy app.py sets allows
none). Each step is one POST that calls the store (dosing.store.orders, or
dosing.pharmacy to lay out the PDFs) and then shows the order again (303, so a
reload never repeats a step). The store decides who may do what: a refusal
(orders.NotAllowed 403, Conflict 409, NotFound 404, InputError 422) is shown at
the top of the order's page with its own words, never as an error page.
"""

import io
import secrets

import attrs
import flask

from dosing.errors import InputError, RegimenError
from dosing.printer import PrinterError
from dosing.web import auth
from dosing.web.team_views import detail_text, moment, now_text, record_rows, totals_rows, work_lists

KEY = "dosing.team"  #: where install() keeps the Team on the app
LOGIN_COOKIE = "dosing_login"  #: the login form's own token (no session yet to carry one): a login from another site fails
#: the sentence shown after a step succeeded (?done=...), so a reload of the page repeats nothing
DONE = {"verified": "Verified.", "rejected": "Rejected: the reason is in the history.", "issued": "Issued: the documents are below.",
        "recorded": "Recorded in the administration record."}


@attrs.frozen
class Team:
    database: object
    protocol: object
    regimens: object
    layout: object  #: dosing.printing.pool.Layout: the server's printer and layout cache


def current() -> Team:
    return flask.current_app.extensions[KEY]


def blueprint() -> flask.Blueprint:
    from dosing.store import accounts, orders
    from dosing.web import team_record

    pages = flask.Blueprint("team", __name__)

    @pages.route("/login", methods=["GET", "HEAD"])
    def login():
        return _login_page()

    @pages.post("/login")
    def log_in():
        form = flask.request.form
        name, wanted = form.get("name", "").strip(), _safe_next(form.get("next"))
        sent, kept = form.get("login_token", ""), flask.request.cookies.get(LOGIN_COOKIE, "")
        if not kept or not secrets.compare_digest(sent, kept):
            return _login_page(name, wanted, "The login form has expired or came from another site: log in again here.", 403)
        try:
            found = accounts.log_in(current().database, name, form.get("password", ""), flask.request.remote_addr or "")
        except accounts.Throttled as exc:
            response = _login_page(name, wanted, f"{str(exc)[:1].upper()}{str(exc)[1:]}.", 429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if found is None:  # the same words for an unknown name and a wrong password: neither is given away
            return _login_page(name, wanted, "Wrong user name or password (or the account is disabled).", 401)
        user, token = found
        response = flask.redirect(wanted or _home(user), 303)
        auth.set_session_cookie(response, token)
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @pages.post("/logout")
    def log_out():
        accounts.log_out(current().database, flask.request.cookies.get(auth.COOKIE, ""))
        response = flask.redirect(flask.url_for("team.login"), 303)
        return auth.clear_session_cookie(response)

    @pages.get("/orders")
    def order_list():
        user = auth.current_user()
        return render("orders.html", lists=work_lists(orders.list_orders(current().database), user))

    @pages.get("/orders/<order_id>")
    def order(order_id):
        return show_order(order_id)

    @pages.post("/orders/<order_id>/verify")
    def verify(order_id):
        return _step(order_id, "verified", lambda db, user: orders.verify(db, user, order_id))

    @pages.post("/orders/<order_id>/reject")
    def reject(order_id):
        reason = flask.request.form.get("reason", "").strip()
        return _step(order_id, "rejected", lambda db, user: orders.reject(db, user, order_id, reason), typed={"reason": reason})

    @pages.post("/orders/<order_id>/issue")
    def issue(order_id):
        from dosing import pharmacy

        return _step(order_id, "issued", lambda db, user: pharmacy.issue_order(db, user, order_id, current().layout))

    @pages.post("/orders/<order_id>/administrations")
    def administration(order_id):
        typed = flask.request.form.to_dict()
        typed.pop("token", None)
        item = typed.get("item", "")
        return _step(order_id, "recorded", lambda db, user: team_record.record(db, user, order_id, typed), typed=typed,
                     anchor=f"item-{item}" if item.isdigit() else "record")

    @pages.get("/orders/<order_id>/documents/<name>")
    def document(order_id, name):
        try:
            owner, content = orders.document(current().database, name)
        except orders.NotFound as exc:
            return refusal(exc)
        if owner != order_id or content is None:
            return refusal(orders.NotFound(f"order {order_id} has no issued document {name} kept on this server"))
        kind = "application/pdf" if name.endswith(".pdf") else "text/html" if name.endswith(".html") else "application/octet-stream"
        return flask.send_file(io.BytesIO(content), mimetype=kind, as_attachment=True, download_name=name)

    @pages.get("/audit")
    def audit():
        if auth.current_user().role != "admin":
            return refusal(orders.NotAllowed("the audit trail is shown to admins only"))
        return render("audit.html", events=orders.audit(current().database), detail_text=detail_text, moment=moment)

    return pages


def render(template: str, status: int = 200, **context):
    """A team page, with who is logged in and their form token (every form posts it)."""
    user = auth.current_user()
    page = flask.render_template(f"team/{template}", user=user, token=auth.csrf_token() if user else "", **context)
    return flask.make_response(page, status)


def show_order(order_id: str, problems: list[str] = (), status: int = 200, typed: dict | None = None):
    """The order's page: state and history, warnings, the working, the steps this user may take, the record."""
    from dosing.store import orders

    team = current()
    try:
        view = orders.get_order(team.database, order_id)
    except orders.NotFound as exc:
        return refusal(exc)
    correct = flask.request.args.get("correct", "")
    return render("order.html", status, order=view, problems=list(problems), done=DONE.get(flask.request.args.get("done", "")),
                  rows=record_rows(view, team.protocol), totals=totals_rows(view, team.protocol), now=now_text(),
                  correcting=int(correct) if correct.isdigit() else None, typed=typed or {}, moment=moment, detail_text=detail_text)


def refusal(exc: Exception, status: int | None = None):
    """A refusal on a page of its own (no order to show it on): what was refused and why, with the right status."""
    return render("refused.html", status or status_of(exc), message=str(exc))


def status_of(exc: Exception) -> int:
    from dosing.store import orders

    for kind, status in ((orders.NotAllowed, 403), (orders.Conflict, 409), (orders.NotFound, 404), (InputError, 422),
                         (RegimenError, 422), (PrinterError, 503)):
        if isinstance(exc, kind):
            return status
    raise exc


def _step(order_id: str, done: str, act, typed: dict | None = None, anchor: str = ""):
    """One step of the chain: done, then the order shown again (303); refused, the order shown with the refusal on top."""
    from dosing.store import orders

    try:
        act(current().database, auth.current_user())
    except (orders.NotAllowed, orders.Conflict, orders.NotFound, InputError, RegimenError, PrinterError) as exc:
        return show_order(order_id, [str(exc)], status_of(exc), typed)
    return flask.redirect(flask.url_for("team.order", order_id=order_id, done=done) + (f"#{anchor}" if anchor else ""), 303)


def _login_page(name: str = "", wanted: str | None = None, problem: str = "", status: int = 200):
    token = flask.request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    wanted = wanted if wanted is not None else _safe_next(flask.request.args.get("next"))
    response = flask.make_response(flask.render_template("team/login.html", user=None, token="", name=name, next=wanted or "",
                                                         problem=problem, login_token=token), status)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="Strict", secure=flask.request.is_secure, path="/login")
    return response


def _safe_next(wanted: str | None) -> str | None:
    """Where to go after logging in: a path on this server only (never //elsewhere or a full URL)."""
    if wanted and wanted.startswith("/") and not wanted.startswith(("//", "/\\")) and wanted != "/login":
        return wanted
    return None


def _home(user) -> str:
    return flask.url_for("team.audit") if user.role == "admin" else flask.url_for("team.order_list")
