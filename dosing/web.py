"""`dosing serve`: everything the command line does, as a page in the browser, on this machine.

The page is a form with the patient file's own fields (named as the file names
them, so an error such as `measurements[1].weight` lands beside its box). It
writes the same TOML the command line reads, and then calls the command
line's own steps: `patient.from_dict` checks the fields, `pathway.plan` gives
the plan, `sheets.prepare` computes and builds the documents, `render` makes
the HTML and PDF, and `Pending.finish` writes them into the output folder and
the issue log. Nothing is implemented twice.

Safe by default: it listens on 127.0.0.1; it answers only requests addressed to
the host it listens on (no DNS rebinding) and carrying its own form token (no
cross-site posts); it refuses bodies over 256 kB; the page loads nothing from
anywhere (Content-Security-Policy), runs no script, and shows each sheet in a
sandboxed frame; Jinja2 escapes every value.
"""

import re
import secrets
import tempfile
import threading
from datetime import date
from pathlib import Path

import flask
import tomli_w

from dosing.errors import InputError, RegimenError
from dosing.patient import MAX_FILE_BYTES

ARRAYS = {
    # the patient file's arrays of tables, with the fields the form shows for each row
    "measurements": ("date", "weight", "length"),
    "mrd": ("timepoint", "method", "value"),
    "remission": ("timepoint", "in_remission"),
    "anthracyclines": ("date", "drug", "amount"),
}
_ROW_FIELD = re.compile(r"^(measurements|mrd|remission|anthracyclines)\[(\d{1,3})\]\.([a-z_]+)$")
_DATES = {"patient.birth_date", "patient.diagnosis_date"}
_ISSUED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.(pdf|html)$")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


# -- the form and the patient file -------------------------------------------

def form_rows(form) -> dict[str, list[int]]:
    """The row numbers the form holds for each array, in order."""
    rows = {name: set() for name in ARRAYS}
    for key in form:
        match = _ROW_FIELD.match(key)
        if match:
            rows[match[1]].add(int(match[2]))
    return {name: sorted(numbers) for name, numbers in rows.items()}


def patient_data(form) -> tuple[dict, dict[str, str]]:
    """The patient file as a dict, from the form; and where each file row came from on the form.

    Blank rows are left out, so the file's `measurements[1]` (the loader counts
    from 1, as people do) may be row 3 on the form: the second result maps the
    file's name back to the form's.
    """
    value = lambda key: (form.get(key) or "").strip()  # noqa: E731
    patient = {key: value(f"patient.{key}") for key in ("id", "name", "sex")}
    for key in ("birth_date", "diagnosis_date"):
        patient[key] = _date_or_text(value(f"patient.{key}"))
    if form.get("patient.no_known_allergies"):
        patient["allergies"] = []
    elif value("patient.allergies"):
        patient["allergies"] = [a.strip() for a in value("patient.allergies").split(";") if a.strip()]
    data = {
        "patient": {k: v for k, v in patient.items() if v != ""},
        "disease": {k: v for k in ("kmt2a", "cns") if (v := value(f"disease.{k}"))},
    }
    where, rows = {}, form_rows(form)
    for name, fields in ARRAYS.items():
        entries = []
        for row in rows[name]:
            entry = {field: value(f"{name}[{row}].{field}") for field in fields}
            if not any(entry.values()):
                continue
            where[f"{name}[{len(entries) + 1}]"] = f"{name}[{row}]"  # the loader counts from 1
            entries.append(_file_entry(name, entry))
        if entries:
            data[name] = entries
    return data, where


def _file_entry(name: str, entry: dict) -> dict:
    """One row of the form as the file writes it: dates bare, "negative" as a result, yes/no as true/false."""
    written = {k: v for k, v in entry.items() if v != ""}
    if "date" in written:
        written["date"] = _date_or_text(written["date"])
    if name == "mrd" and written.get("value", "").lower() == "negative":
        written["result"] = "negative"
        del written["value"]
    if name == "remission" and written.get("in_remission") in ("true", "false"):
        written["in_remission"] = written["in_remission"] == "true"
    return written


def _date_or_text(text: str):
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text  # the patient loader names the field and says how to write it


def form_values(data: dict) -> dict[str, str]:
    """A patient file's values as the form shows them (opening a file fills the form)."""
    values = {}
    for table in ("patient", "disease"):
        for key, v in _table(data, table).items():
            if key == "allergies" and isinstance(v, list):
                values["patient.no_known_allergies"] = "on" if not v else ""
                values["patient.allergies"] = "; ".join(map(str, v))
            else:
                values[f"{table}.{key}"] = _shown(v)
    for name in ARRAYS:
        entries = data.get(name)
        for row, entry in enumerate(entries if isinstance(entries, list) else [], start=1):
            if not isinstance(entry, dict):
                continue
            for key, v in entry.items():
                key = "value" if (name, key) == ("mrd", "result") else key
                values[f"{name}[{row}].{key}"] = _shown(v)
    return values


def _table(data: dict, name: str) -> dict:
    found = data.get(name)
    return found if isinstance(found, dict) else {}


def _shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, date) else str(value)


def patient_toml(data: dict) -> str:
    """The patient file the command line reads, as the page writes it."""
    return ("# ALL-Baby-2021 patient file, written by the dosing web page.\n"
            "# The command line reads it as it is: dosing plan THIS-FILE; dosing sheet THIS-FILE --phase ... --start ...\n"
            + tomli_w.dumps(data))


def form_field(error: InputError, where: dict[str, str]) -> str:
    """The form box an error belongs beside: the file's name, mapped back to the form's row."""
    field = error.field
    if field.startswith("[["):  # a whole array, e.g. "[[measurements]] is missing"
        return field.strip("[]")
    if field.startswith("--"):
        return "sheet." + field[2:].replace("-", "_")
    match = re.match(r"^(measurements|mrd|remission|anthracyclines)\[(\d+)\](.*)$", field)
    if match:
        field = where.get(f"{match[1]}[{match[2]}]", f"{match[1]}[{match[2]}]") + match[3]
        if re.search(r"^mrd\[\d+\](\.result)?$", field):
            field = re.sub(r"(\.result)?$", ".value", field, count=1)
    if field == "output":
        return "sheet.reissue"
    return field


# -- the application -----------------------------------------------------------

def create_app(out: Path, regimens: Path | None = None, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> flask.Flask:
    """The web page; `out` is where sheets and the issue log go, as `dosing sheet --out`."""
    from dosing.regimen import load_protocol
    from dosing.render import templates_directory

    app = flask.Flask("dosing.web", template_folder=str(templates_directory() / "web"), static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_FILE_BYTES
    app.jinja_env.undefined = __import__("jinja2").StrictUndefined
    protocol = load_protocol(regimens)
    token = secrets.token_urlsafe(32)
    layout = threading.Lock()  # one PDF laid out at a time: WeasyPrint is not made for threads
    out = Path(out)

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
        from dosing.cli import DOCUMENTS, PHASES

        values = values or {}
        rows = form_rows(values)
        for name in ARRAYS:  # one empty row to write in, and the one asked for
            extra = 1 if not rows[name] or shown.pop(f"add_{name}", False) else 0
            rows[name] += [max(rows[name], default=0) + 1 + i for i in range(extra)]
        context = dict(values=values, errors=errors or {}, token=token, rows=rows, phases=PHASES,
                       documents=DOCUMENTS, out=str(out.resolve()), plan=None, preview=None, issued=None, notes=[],
                       problems=[], verification=None, recent=_recent(), substitutions=_substitutions())
        context.update(shown)
        return flask.render_template("page.html", **context), status

    def _substitutions() -> list[tuple[str, str]]:
        """(name, what it is) of each substitution the regimen data offers, for the page's list."""
        from dosing.regimen import substitutions

        return [(name, f"{name}: instead of {protocol.drugs[entry[1]['replaces']].print_name}, for {entry[1]['for']}")
                for name, entry in substitutions(protocol).items()]

    def _recent() -> list[dict]:
        from dosing import issue_log

        if not (out / issue_log.FILE_NAME).exists():
            return []
        with issue_log.IssueLog(out) as log:
            return log.recent_files()

    @app.get("/")
    def home():
        return page()

    @app.post("/")
    def act():
        action = flask.request.form.get("action", "plan")
        values = {k: v for k, v in flask.request.form.items() if k not in ("token", "action", "verify")}
        if "verify" in flask.request.form:
            return _verify(values, flask.request.form["verify"])
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
            plan = _plan(patient)
            if action not in ("preview", "issue", "resume"):
                return page(values, plan=plan)
            try:
                if action == "resume":
                    return _resume(path, values, plan)
                request, phase = _sheet_request(values)
                return _sheets(path, request, phase, action, values, plan, where)
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

    def _plan(patient):
        from dosing.pathway import plan, with_dates

        return with_dates(plan(patient, protocol), protocol, patient)

    def _sheet_request(values):
        from dosing import cli
        from dosing.regimen import load_phase
        from dosing.sheets import Request

        def parsed(field, parse, required=False):
            return _parsed(values, field, parse, required)

        name = values.get("sheet.phase", "")
        if name not in cli.PHASES:
            raise InputError("--phase", f"{name!r} is not a phase", "choose a phase from the list")
        kinds = [k for k in cli.DOCUMENTS if values.get(f"sheet.documents.{k}")]
        bag_hours = parsed("bag_hours", _hours)
        request = Request(
            start=parsed("start", cli.parse_date, required=True), out=out,
            infusion_start=parsed("infusion_start", cli.parse_clock), weeks=parsed("weeks", cli.parse_weeks),
            window_from=parsed("window_from", cli.parse_date), bag_hours=bag_hours or 24,
            documents=cli.parse_documents(",".join(kinds)) if kinds else None,
            override_pathway=parsed("override_pathway", cli.parse_reason), reissue=parsed("reissue", cli.parse_reason),
            override_dates=parsed("override_dates", cli.parse_reason),
            substitute=values.get("sheet.substitute") or None,
        )
        return request, load_phase(protocol, name)

    def _resume(path, values, plan):
        """The blinatumomab bags after an interruption, as `dosing blinatumomab-resume` writes them."""
        from types import SimpleNamespace

        from dosing import cli, render
        from dosing.sheets import resume

        request, _ = _sheet_request(values | {"sheet.phase": "blinatumomab"})
        stopped = _parsed(values, "stopped", cli.parse_moment, required=True)
        restart = _parsed(values, "restart", cli.parse_moment, required=True)
        asked = SimpleNamespace(start=request.start, infusion_start=request.infusion_start, stopped=stopped, restart=restart,
                                bag_hours=request.bag_hours, override_pathway=request.override_pathway, out=out, format="pdf",
                                override_dates=request.override_dates, today=None)
        found = resume(path, protocol, asked)
        with layout:
            written = found.finish([render.pdf(d) for d in found.documents])
        return page(values, plan=plan, issued=[p.name for p in written], notes=found.recovered + list(found.said))

    def _sheets(path, request, phase, action, values, plan, where):
        from dosing import render
        from dosing.sheets import prepare

        pending = prepare(path, protocol, phase, request, preview=action == "preview")
        if action == "preview":
            frames = [{"title": d.title, "kind": d.kind, "html": render.html(d)} for d in pending.documents]
            return page(values, plan=plan, preview={"frames": frames, "version": pending.version}, notes=_warnings(pending))
        with layout:
            made = [render.pdf(d) for d in pending.documents]
            written = pending.finish(made)
        return page(values, plan=plan, issued=[p.name for p in written], notes=pending.recovered + _warnings(pending))

    def _verify(values, name):
        from dosing.sheets import verify

        if not _ISSUED.match(name):
            return page(values, problems=[f"{name!r} is not the name of an issued sheet"], status=422)
        try:
            result = verify(out / name, regimens)
        except (InputError, RegimenError) as exc:
            return page(values, problems=[f"verify {name}: {exc}"], status=422)
        return page(values, verification={"name": name, "said": result.said, "matches": result.matches, "replaced_by": result.replaced_by,
                                            "headline": result.headline})

    @app.get("/sheets/<name>")
    def sheet_file(name):
        if not _ISSUED.match(name):
            flask.abort(404)
        return flask.send_from_directory(out.resolve(), name, as_attachment=True)

    @app.errorhandler(413)
    def too_large(error):
        return page({}, {"patient_file": f"the upload is larger than {MAX_FILE_BYTES // 1024} kB, which no patient file is"}, 413)

    return app


def _parsed(values: dict, field: str, parse, required: bool = False):
    """A sheet option from the form, through the command line's own parser for it."""
    import argparse

    text = (values.get(f"sheet.{field}") or "").strip()
    option = f"--{field.replace('_', '-')}"
    if not text:
        if required:
            raise InputError(option, "is needed", "fill it in above")
        return None
    try:
        return parse(text)
    except argparse.ArgumentTypeError as exc:
        raise InputError(option, str(exc)) from None


def _warnings(pending) -> list[str]:
    """The sheet's warnings, with Tall Man names as the sheets print them (safety.md)."""
    from dosing.formatting import tall_man

    names = pending.documents[0].context["tall_man"]
    return [tall_man(warning, names) for warning in pending.orders.warnings]


def _hours(text: str) -> int:
    import argparse

    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: give the hours each bag runs as a whole number, e.g. 24")
    return int(text)


def serve(host: str, port: int, out: Path, regimens: Path | None) -> int:
    """Run the page until Ctrl-C."""
    import sys

    from werkzeug.serving import make_server

    loopback = host in ("127.0.0.1", "localhost", "::1")
    app = create_app(out, regimens, hosts=("127.0.0.1", "localhost") if loopback else ("127.0.0.1", "localhost", host))
    from dosing.render import warm_up

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
