"""The page's routes: the guards every request passes, the form shown, and each button sent to its action.

Safe by default: it answers only requests addressed to the host it listens on
(no DNS rebinding) and carrying its own form token (no cross-site posts); it
refuses bodies over 256 kB; the page loads nothing from anywhere
(Content-Security-Policy) and runs no script.
"""

import secrets
import tempfile
import threading
from pathlib import Path

import flask

from dosing.errors import InputError, RegimenError
from dosing.patient import MAX_FILE_BYTES
from dosing.requests import DOCUMENTS, PHASES
from dosing.web import actions
from dosing.web.form import ARRAYS, form_field, form_rows, form_values, lab_tests, patient_data, patient_toml

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def create_app(out: Path, regimens: Path | None = None, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> flask.Flask:
    """The web page; `out` is where sheets and the issue log go, as `dosing sheet --out`."""
    from dosing.regimen import load_protocol
    from dosing.documents.render import templates_directory

    app = flask.Flask("dosing.web", template_folder=str(templates_directory() / "web"), static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_FILE_BYTES
    app.jinja_env.undefined = __import__("jinja2").StrictUndefined
    protocol = load_protocol(regimens)
    token = secrets.token_urlsafe(32)
    layout = threading.Lock()  # one PDF laid out at a time: WeasyPrint is not made for threads
    out = Path(out)
    tests = lab_tests()

    @app.before_request
    def guard():
        host = (flask.request.host or "").rsplit(":", 1)[0].strip("[]")
        if host not in hosts and host != "::1":
            flask.abort(421, "this page answers only at the address it was started on")
        if flask.request.method == "POST" and not secrets.compare_digest(flask.request.form.get("token", ""), token):
            flask.abort(403, "the form has expired or came from another site; reload the page")

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
        context = dict(values=values, errors=errors or {}, token=token, rows=rows, phases=PHASES,
                       documents=DOCUMENTS, out=str(out.resolve()), plan=None, preview=None, issued=None, notes=[],
                       problems=[], verification=None, recent=_recent(out), substitutions=_substitutions(protocol),
                       lab_tests=tests)
        context.update(shown)
        return flask.render_template("page.html", **context), status

    @app.get("/")
    def home():
        return page()

    @app.post("/")
    def act():
        action = flask.request.form.get("action", "plan")
        values = {k: v for k, v in flask.request.form.items() if k not in ("token", "action", "verify")}
        if "verify" in flask.request.form:
            try:
                return page(values, **actions.verify(flask.request.form["verify"], out, regimens))
            except actions.Refused as exc:
                return page(values, problems=exc.problems, status=422)
        if action == "open":
            return _open(values)
        if action.startswith("add-") and action[4:] in ARRAYS:
            return page(values, **{f"add_{action[4:]}": True})
        return _act(values, action)

    def _act(values, action):
        """The form's patient file checked by the command line's loader, then the action asked for."""
        data, where = patient_data(values)
        with tempfile.TemporaryDirectory(prefix="dosing-web-") as scratch:
            path = Path(scratch) / "patient.toml"
            path.write_text(patient_toml(data), encoding="utf-8")
            try:
                from dosing import patient as patients

                patient = patients.load(path)
            except InputError as exc:
                return page(values, {form_field(exc, where): str(exc)}, 422)
            if action == "download":
                from dosing.output import safe_id

                return flask.Response(path.read_text(encoding="utf-8"), mimetype="application/toml",
                                      headers={"Content-Disposition": f'attachment; filename="{safe_id(patient.id)}.toml"'})
            plan = actions.plan(patient, protocol)
            if action not in ("preview", "issue", "resume"):
                return page(values, plan=plan)
            try:
                if action == "resume":
                    return page(values, plan=plan, **actions.resume(path, values, protocol, out, layout))
                return page(values, plan=plan, **actions.sheets(path, values, action == "preview", protocol, out, layout))
            except InputError as exc:
                return page(values, {form_field(exc, where): str(exc)}, 422, plan=plan)
            except RegimenError as exc:
                return page(values, {}, 422, plan=plan, problems=[f"regimen data: {exc}"])

    def _open(values):
        upload = flask.request.files.get("patient_file")
        if upload is None or not upload.filename:
            return page(values, {"patient_file": "choose a patient file (.toml) to open"}, 422)
        from dosing.patient import read_toml

        try:
            data = read_toml(upload.read(MAX_FILE_BYTES + 1).decode("utf-8"))
        except UnicodeDecodeError:
            return page(values, {"patient_file": f"{upload.filename} is not UTF-8 text; save the patient file as UTF-8 TOML"}, 422)
        except InputError as exc:  # not TOML, or a field nested too deep to read (the command line's own reader)
            return page(values, {"patient_file": f"{upload.filename}: {exc}"}, 422)
        return _act(form_values(data), "plan")  # the form filled from the file, and its plan

    @app.get("/sheets/<name>")
    def sheet_file(name):
        if not actions.ISSUED.match(name):
            flask.abort(404)
        return flask.send_from_directory(out.resolve(), name, as_attachment=True)

    @app.errorhandler(413)
    def too_large(error):
        return page({}, {"patient_file": f"the upload is larger than {MAX_FILE_BYTES // 1024} kB, which no patient file is"}, 413)

    return app


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


def serve(host: str, port: int, out: Path, regimens: Path | None) -> int:
    """Run the page until Ctrl-C."""
    import sys

    from werkzeug.serving import make_server

    loopback = host in ("127.0.0.1", "localhost", "::1")
    app = create_app(out, regimens, hosts=("127.0.0.1", "localhost") if loopback else ("127.0.0.1", "localhost", host))
    from dosing.documents.render import warm_up

    warm_up()  # the first PDF a pharmacist asks for comes out as fast as the rest
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        print(f"dosing: refused: --port {port}: cannot listen on {host}:{port} ({exc.strerror}); give another --port", file=sys.stderr)
        return 3
    if not loopback:
        print(f"warning: listening on {host}, not only on this machine: anyone who can reach it can make sheets", file=sys.stderr)
    shown = f"[{host}]" if ":" in host else host
    print(f"dosing: open http://{shown}:{server.server_port}/ in your browser. Sheets go to {out.resolve()}. Ctrl-C stops.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
