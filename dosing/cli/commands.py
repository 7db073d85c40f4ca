"""What each command of the command line does, from its parsed arguments to its output and exit status.

The sheet and resume commands turn their arguments into the requests the web
page makes too (dosing.requests) and call the same steps (dosing.issuing,
dosing.resumption, dosing.verification); `serve` starts the web page, alone or
for a pharmacy team with accounts in a database (`users` and `db`: pharmacy.py).
"""

import json
import sys
from contextlib import contextmanager

import attrs

from dosing.requests import Request, ResumeRequest

EXIT_OK, EXIT_USAGE, EXIT_REFUSED = 0, 2, 3


@contextmanager
def _printer(arguments):
    """For PDFs, the printer, started first so WeasyPrint loads in its own process while the doses are
    computed, with the output folder's layout cache (the page shares it: a document laid out before into
    this folder is read back); None for other formats. Cancelled on the way out, whatever happened."""
    if arguments.format != "pdf":
        yield None
        return
    from dosing.documents.layout_cache import LayoutCache
    from dosing.printer import Printer

    printer = Printer(cache=LayoutCache.inside(arguments.out))
    try:
        yield printer
    finally:
        printer.cancel()


def _sheet(arguments) -> int:
    with _printer(arguments) as printer:
        return _sheets(arguments, printer)


def _sheets(arguments, printer) -> int:
    from dosing.errors import RegimenError
    from dosing.regimen import load_phase, load_protocol

    try:
        protocol = load_protocol(arguments.regimens)
        phase = load_phase(protocol, arguments.phase)
    except RegimenError as exc:
        print(f"dosing: refused: regimen data: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    request = _request(Request, arguments)
    if arguments.format in ("json", "fhir"):
        return _printed(arguments, protocol, phase, request)
    from dosing.cli.batch import issue
    from dosing.cli.progress import Progress
    from dosing.cli.report import Report

    report = Report(len(arguments.patients))
    try:
        with Progress(len(arguments.patients)) as progress:
            issue(arguments.patients, protocol, phase, request, printer, report, progress)
    finally:  # said even when the run is stopped (Ctrl-C): what was written, and every warning for it
        if report.lines():
            print("\n".join(report.lines()), file=sys.stderr, flush=True)
    return EXIT_REFUSED if report.refused else EXIT_OK


def _printed(arguments, protocol, phase, request) -> int:
    """--format json or fhir: the orders on standard output (one document per patient, a list for several)."""
    from dosing.errors import InputError, RegimenError
    from dosing.issuing import prepare

    status, results = EXIT_OK, []
    for path in arguments.patients:
        try:
            results.append(prepare(path, protocol, phase, request))
        except (InputError, RegimenError) as exc:
            print(f"dosing: refused: {path}: {exc}", file=sys.stderr)
            status = EXIT_REFUSED
    if results:
        print(json.dumps(results[0] if len(arguments.patients) == 1 else results, indent=2, ensure_ascii=False))
    return status


def _serve(arguments) -> int:
    try:
        from dosing import web
    except ImportError as exc:
        print(f"dosing: refused: serve needs the web extra ({exc.name} is not installed); install it with: pip install \".[web]\"",
              file=sys.stderr)
        return EXIT_USAGE
    from dosing.errors import InputError, RegimenError
    from dosing.output import ready_folder

    try:
        ready_folder(arguments.out)
        return web.serve(arguments.host, arguments.port, arguments.out, arguments.regimens, db_url=arguments.db,
                         allowed_hosts=tuple(arguments.allowed_host), trusted_proxy=arguments.trusted_proxy)
    except InputError as exc:
        print(f"dosing: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except RegimenError as exc:
        print(f"dosing: refused: regimen data: {exc}", file=sys.stderr)
        return EXIT_REFUSED


def _resume(arguments) -> int:
    with _printer(arguments) as printer:  # as for `sheet`: warming up while the new bags are computed
        return _resumed(arguments, printer)


def _resumed(arguments, printer) -> int:
    from dosing.errors import InputError, RegimenError
    from dosing.documents.json_orders import bag_dict
    from dosing.printer import PrinterError
    from dosing.regimen import load_protocol
    from dosing.resumption import resume

    try:
        found = resume(arguments.patient, load_protocol(arguments.regimens), _request(ResumeRequest, arguments))
        if arguments.format == "json":
            result = found.result
            print(json.dumps({
                "patient": {"id": found.patient.id, "birth_date": found.patient.birth_date.isoformat()},
                "course_start": found.course_start.isoformat(timespec="minutes"),
                "stopped": arguments.stopped.isoformat(timespec="minutes"),
                "restart": arguments.restart.isoformat(timespec="minutes"),
                "infused_hours": round(result.infused_hours, 2),
                "interruption_hours": round(result.interruption.total_seconds() / 3600, 2),
                "new_course": result.new_course,
                "remaining_hours": round(result.remaining_hours, 2),
                "premedication": {"drug": "dexamethasone", "route": "IV", "dose": found.premedication.total.m_as("mg"), "unit": "mg"}
                if result.premedication else None,
                "bags": [bag_dict(b) for b in result.bags],
                "notes": list(found.said),
            }, indent=2, ensure_ascii=False))
            return EXIT_OK
        from dosing.cli.progress import Progress
        from dosing.documents import render

        with Progress(1) as progress:
            htmls = [render.html(d) for d in found.documents]
            if printer is None:
                made = [text.encode("utf-8") for text in htmls]
            else:
                printer.submit(htmls)
                progress.update(documents=len(htmls))
                made = next(printer.results())
                progress.update(laid_out=len(made))
            for written in found.finish(made):
                progress.say(str(written), sys.stdout)
            progress.update(done=1)
        for line in [*found.recovered, *found.said]:
            print(f"note: {line}", file=sys.stderr)
        return EXIT_OK
    except (InputError, RegimenError, PrinterError) as exc:
        print(f"dosing: refused: {arguments.patient}: {exc}", file=sys.stderr)
        return EXIT_REFUSED


def _verify(arguments) -> int:
    from dosing.errors import InputError, RegimenError
    from dosing.verification import verify

    try:
        result = verify(arguments.sheet_file, arguments.regimens)
    except (InputError, RegimenError) as exc:
        print(f"dosing: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print("\n".join(result.said))
    return EXIT_OK if result.matches else EXIT_REFUSED


def _request(kind, arguments):
    """The command's options as a dosing.requests request: the fields by the same names as the options."""
    return kind(**{name: getattr(arguments, name) for name in attrs.fields_dict(kind)})


# The other commands' modules are imported when their command runs, not by every command (the JSON orders
# start faster without them: tests/test_imports.py).

def _plan(arguments) -> int:
    from dosing.cli.plan import plan_command

    return plan_command(arguments)


def _users(arguments) -> int:
    from dosing.cli import pharmacy

    return pharmacy.users(arguments)


def _database(arguments) -> int:
    from dosing.cli import pharmacy

    return pharmacy.database(arguments)


def _regimen(arguments) -> int:
    from dosing.cli.regimen_export import regimen

    return regimen(arguments)


def _import_fhir(arguments) -> int:
    from dosing.cli.fhir_import import import_fhir

    return import_fhir(arguments)


COMMANDS = {"plan": _plan, "sheet": _sheet, "blinatumomab-resume": _resume, "verify": _verify, "serve": _serve,
            "users": _users, "db": _database, "regimen": _regimen, "import-fhir": _import_fhir}
