"""The page's routes: the guards every request passes, the form shown, and each button sent to its action.

Safe by default: it answers only requests addressed to a name of this machine
(no DNS rebinding); a post must carry the page's own form token (no cross-site
posts) and a sheet is handed out only to a browser holding the page's own cookie
(HttpOnly, SameSite=Strict: another site's page cannot fetch it); it refuses
bodies over 256 kB; the page loads nothing from anywhere (Content-Security-Policy)
and runs no script. With a database (team mode, dosing.web.team) the session's
login and token take the place of the single-user token and cookie.
"""

import hashlib
import hmac
import json
import secrets
import tempfile
from pathlib import Path

import flask

from dosing.errors import InputError, RegimenError
from dosing.patient import MAX_FILE_BYTES
from dosing.printer import PrinterError
from dosing.requests import DOCUMENTS, PHASES
from dosing.web import actions
from dosing.web.form import (ARRAYS, PATIENT_BOXES, ROW_BOXES, SHEET_BOXES, form_field, form_rows, form_values, lab_tests,
                             patient_data, patient_toml)
from dosing.web.messages import in_form_words, options_named

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
PAGE_COOKIE = "dosing_page"  #: the single-user page's own cookie: only a browser that was shown the page gets a sheet
#: what a post carries beside the sheet's inputs: left out of the fingerprint of what a preview was made from
NOT_INPUTS = ("token", "action", "verify", "previewed", "sheet.stopped", "sheet.restart")
NEEDS_PREVIEW = ("these inputs have not been previewed: the form changed since the preview, or none was made. "
                 "Press 'Preview sheets', check the sheets, then issue")


def create_app(out: Path, regimens: Path | None = None, hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
               database=None, printer=None) -> flask.Flask:
    """The web page; `out` is where sheets and the issue log go, as `dosing sheet --out`.

    `hosts`: the names a request may be addressed to (loopback is always one).
    `database` (a dosing.store.Database whose users log in): the pharmacy team's
    server, with logins and the prepare -> verify -> issue chain (dosing.web.team).
    `printer` (a dosing.printing.pool.PrinterPool): where every request's PDFs are laid out,
    side by side on every core; `dosing serve` starts it before its threads (without one, this
    process's own, started at the first PDF). Laid-out PDFs are kept in `out`/.layout-cache.
    """
    from dosing.documents.layout_cache import LayoutCache
    from dosing.documents.render import templates_directory
    from dosing.printing.pool import Layout, shared
    from dosing.regimen import load_protocol

    app = flask.Flask("dosing.web", template_folder=str(templates_directory() / "web"), static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_FILE_BYTES
    app.jinja_env.undefined = __import__("jinja2").StrictUndefined
    protocol = load_protocol(regimens)
    token, cookie = secrets.token_urlsafe(32), secrets.token_urlsafe(32)  # made when the server starts, never stored
    out = Path(out)
    layout = Layout(printer or shared(), LayoutCache.inside(out))
    previews = actions.Previews()  # an Issue issues the sheets its preview showed (and laid out ahead)
    tests = lab_tests()
    allowed = {name.lower().rstrip(".") for name in hosts} | set(LOOPBACK_NAMES)
    team = None
    if database is not None:
        from dosing.web import team

        team.install(app, database, protocol, regimens, layout)

    @app.before_request
    def guard():
        if host_name(flask.request.host) not in allowed:
            flask.abort(421, "this page answers only at the names it was started with; "
                             "to reach it by another name, start it with --allowed-host NAME")
        if team is not None:
            return team.guard()
        if flask.request.method == "POST" and not secrets.compare_digest(flask.request.form.get("token", ""), token):
            flask.abort(403, "the form has expired or came from another site; reload the page")
        if flask.request.endpoint == "sheet_file" and not secrets.compare_digest(flask.request.cookies.get(PAGE_COOKIE, ""), cookie):
            flask.abort(403, "a sheet is handed out only to the page that issued it; open the page first, then its link")
        return None

    @app.after_request
    def headers(response):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    def page(values=None, errors=None, status=200, **shown):
        values = values or {}
        rows = form_rows(values)
        for name in ARRAYS:  # one empty row to write in, and the one asked for
            extra = 1 if not rows[name] or shown.pop(f"add_{name}", False) else 0
            rows[name] += [max(rows[name], default=0) + 1 + i for i in range(extra)]
        context = dict(values=values, errors=errors or {}, token=token, user=None, team=team is not None, rows=rows,
                       phases=PHASES, documents=DOCUMENTS, out=str(out.resolve()), plan=None, preview=None, issued=None,
                       notes=[], problems=[], verification=None, previewed=None, recent=[], substitutions=_substitutions(protocol),
                       lab_tests=tests, sheet_boxes=SHEET_BOXES, patient_boxes=PATIENT_BOXES, row_boxes=ROW_BOXES)
        context.update(shown)
        if context["plan"] is not None:  # the plan drawn as a timeline above its table (issue 19, dosing.pictures)
            from dosing.dates import today
            from dosing.pictures.plan import timeline
            context["plan_picture"] = timeline(context["plan"], protocol, today())
        if context.get("measured") is not None:  # every weight and length on the WHO centiles (dosing.pictures)
            from dosing.pictures.growth_chart import section as growth
            context["growth"] = growth(context["measured"], small=False)
        context["notes"] = [options_named(note) for note in context["notes"]]  # "Give --infusion-start HH:MM": the page's box
        if team is not None:
            context.update(team.page_context())
        else:
            context["recent"] = _recent(out)
        response = flask.make_response(flask.render_template("page.html", **context), status)
        if team is None:  # the cookie a sheet's download must bring back (SameSite=Strict: never sent from another site)
            response.set_cookie(PAGE_COOKIE, cookie, httponly=True, samesite="Strict", secure=flask.request.is_secure)
        return response

    def fingerprint(values: dict) -> str:
        """What a preview was made from: every input typed (blank boxes left out), signed with the server's secret."""
        inputs = sorted((k, v.strip()) for k, v in values.items() if k not in NOT_INPUTS and v.strip())
        return hmac.new(token.encode(), json.dumps(inputs).encode(), hashlib.sha256).hexdigest()

    @app.get("/")
    def home():
        if team is not None and team.page_context()["user"].role in ("nurse", "admin"):
            return flask.redirect("/orders", 303)  # the form prepares orders: a pharmacist's work
        return page()

    @app.post("/")
    def act():
        form = flask.request.form
        action = form.get("action", "plan")
        values = {k: v for k, v in form.items() if k not in ("token", "action", "verify", "previewed")}
        offered = ("prepare",) if team is not None else ("issue", "resume")
        if action in ("issue", "resume", "prepare") and action not in offered or team is not None and "verify" in form:
            why = ("on the team's server a sheet is prepared, verified by a second pharmacist and issued from its order"
                   if team is not None else "this button is for the pharmacy team's server")
            return page(values, problems=[why], status=403)
        if "verify" in form:
            try:
                return page(values, **actions.verify(form["verify"], out, regimens))
            except actions.Refused as exc:
                return page(values, problems=exc.problems, status=422)
        if action == "open":
            return _open(values)
        if action.startswith("add-") and action[4:] in ARRAYS:
            return page(values, **{f"add_{action[4:]}": True})
        return _act(values, action, form.get("previewed", ""))

    def refused(values, error: InputError, where: dict, **shown):
        """The error beside its box, in the form's own words; everything typed kept."""
        return page(values, {form_field(error, where): in_form_words(error, where)}, 422, **shown)

    def _act(values, action, previewed=""):
        """The form's patient file checked by the command line's loader, then the action asked for."""
        data, where = patient_data(values)
        with tempfile.TemporaryDirectory(prefix="dosing-web-") as scratch:
            path = Path(scratch) / "patient.toml"
            path.write_text(patient_toml(data), encoding="utf-8")
            try:
                from dosing import patient as patients

                patient = patients.load(path)
            except InputError as exc:
                return refused(values, exc, where)
            if action == "download":
                from dosing.output import safe_id

                return flask.Response(path.read_text(encoding="utf-8"), mimetype="application/toml",
                                      headers={"Content-Disposition": f'attachment; filename="{safe_id(patient.id)}.toml"'})
            plan = actions.plan(patient, protocol)
            drawn = {"plan": plan, "measured": patient}  # page() draws the plan's timeline and the growth charts from these
            if action not in ("preview", "issue", "resume", "prepare"):
                return page(values, **drawn)
            if action in ("issue", "prepare") and not hmac.compare_digest(previewed, fingerprint(values)):
                return page(values, **drawn, problems=[NEEDS_PREVIEW], status=409)
            try:
                if action == "prepare":
                    return team.prepare_from_form(values, path, protocol, regimens)
                if action == "resume":
                    return page(values, **drawn, **actions.resume(path, values, protocol, out, layout))
                if action == "issue":
                    return page(values, **drawn, **actions.sheets(path, values, False, protocol, out, layout,
                                                                   previews.produced(previewed)))
                signed = fingerprint(values)
                return page(values, **drawn, previewed=signed, **_preview(path, values, previews.made(signed)))
            except InputError as exc:
                return refused(values, exc, where, **drawn)
            except RegimenError as exc:
                return page(values, {}, 422, **drawn, problems=[f"regimen data: {exc}"])
            except PrinterError as exc:  # the printer stopped: nothing was written, and a new one is starting
                return page(values, {}, 503, **drawn, problems=[str(exc)])

    def _preview(path, values, produced) -> dict:
        """The sheets as they will print; earlier versions looked up where this server keeps them."""
        if team is None:
            return actions.sheets(path, values, True, protocol, out, layout, produced)
        from dosing import pharmacy
        from dosing.web.form import phase_name, sheet_request

        found = pharmacy.preview_order(database, protocol, path.read_text(encoding="utf-8"), phase_name(values),
                                       sheet_request(values, path.parent))
        return {"preview": {"frames": found["frames"], "version": found["version"], "issued_already": None},
                "notes": found["notes"]}

    def _open(values):
        upload = flask.request.files.get("patient_file")
        if upload is None or not upload.filename:
            return page(values, {"patient_file": "Choose a patient file (.toml) or a FHIR Bundle (.json) to open"}, 422)
        from dosing.patient import read_toml

        body = upload.read(MAX_FILE_BYTES + 1)
        if upload.filename.lower().endswith(".json") or body.lstrip()[:1] == b"{":  # a FHIR Bundle: TOML never starts with {
            return _open_bundle(upload.filename, body)
        try:
            data = read_toml(body.decode("utf-8"))
        except UnicodeDecodeError:
            return page(values, {"patient_file": f"{upload.filename} is not UTF-8 text; save the patient file as UTF-8 TOML"}, 422)
        except InputError as exc:  # not TOML, or a field nested too deep to read (the command line's own reader)
            return page(values, {"patient_file": f"{upload.filename}: {in_form_words(exc, {})}"}, 422)
        return _act(form_values(data), "plan")  # the form filled from the file, and its plan

    def _open_bundle(name, body):
        """A FHIR Bundle fills the form as its patient file would (dosing.fhir.patient_in); what FHIR lacks is left blank."""
        from dosing.fhir.patient_in import parse_bundle, patient_data

        try:
            data = patient_data(parse_bundle(body), complete=False)
        except InputError as exc:
            return page({}, {"patient_file": f"{name}: {exc}"}, 422)
        except RegimenError as exc:  # regimens/fhir-in.toml, the codes a Bundle is read with
            return page({}, {"patient_file": f"{name}: regimen data: {exc}"}, 422)
        return _act(form_values(data), "plan")

    @app.get("/sheets/<name>")
    def sheet_file(name):
        if team is not None or not actions.ISSUED.match(name):
            flask.abort(404)  # on the team's server a document comes from its order, to a logged-in user
        return flask.send_from_directory(out.resolve(), name, as_attachment=True)

    @app.errorhandler(413)
    def too_large(error):
        said = f"The upload is larger than {MAX_FILE_BYTES // 1024} kB, which no patient file is"
        if flask.request.path.startswith("/api/"):
            return flask.jsonify(error=f"the request is larger than {MAX_FILE_BYTES // 1024} kB, which no patient file is",
                                 fix="send the patient file itself, as text"), 413
        if flask.request.path != "/" or team is not None and team.page_context()["user"] is None:
            return flask.Response(said + "\n", 413, mimetype="text/plain")  # the login page, an order's page: not this form
        return page({}, {"patient_file": said}, 413)

    return app


def host_name(host: str) -> str:
    """The name a request is addressed to, without its port or IPv6 brackets: "[::1]:8400" -> "::1"."""
    host = (host or "").strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return (host.rpartition(":")[0] if host.count(":") == 1 else host).rstrip(".")


def _substitutions(protocol) -> list[tuple[str, str]]:
    """(name, what it is) of each substitution the regimen data offers, for the page's list."""
    from dosing.regimen import substitutions

    return [(name, f"{name}: instead of {protocol.drugs[entry[1]['replaces']].print_name}, for {entry[1]['for']}")
            for name, entry in substitutions(protocol).items()]


def _recent(out: Path) -> list[dict]:
    """The files issued into `out`, newest first (none before the first issue)."""
    from dosing import issue_log

    if not (out / issue_log.FILE_NAME).exists():
        return []
    with issue_log.IssueLog(out) as log:
        return log.recent_files()
