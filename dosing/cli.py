"""The `dosing` command line.

Exit status (interfaces.md): 0 success; 2 usage error; 3 input refused (a
hard stop), with the reason on standard error. Nothing the user can type
produces a traceback.
"""

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from dosing import __version__

PHASES = (
    "induction", "consolidation_1", "reinduction_1", "consolidation_2", "reinduction_2",
    "consolidation_3", "maintenance", "HR1", "HR2", "HR3", "protocol_II", "blinatumomab",
)
EXIT_OK, EXIT_USAGE, EXIT_REFUSED = 0, 2, 3


def parse_clock(text: str):
    from datetime import time

    try:
        return time.fromisoformat(text) if len(text) == 5 else _no_clock(text)
    except ValueError:
        return _no_clock(text)


def _no_clock(text: str):
    raise argparse.ArgumentTypeError(f"{text!r} is not a time; write it as HH:MM, e.g. 10:00")


def parse_weeks(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 104:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of weeks from 1 to 104")
    return int(text)


DOCUMENTS = {"orders": "orders", "intrathecal": "intrathecal", "calendar": "calendar", "record": "administration-record",
             "infusion": "infusion", "preparation": "preparation"}


def parse_documents(text: str) -> frozenset:
    asked = {part.strip() for part in text.split(",") if part.strip()}
    unknown = asked - set(DOCUMENTS)
    if unknown or not asked:
        raise argparse.ArgumentTypeError(f"unknown document {', '.join(sorted(unknown)) or '(none)'}; choose from {', '.join(DOCUMENTS)}")
    return frozenset(DOCUMENTS[name] for name in asked)


def parse_reason(text: str) -> str:
    if len(text.strip()) < 10:
        raise argparse.ArgumentTypeError("give the clinical reason in words (at least 10 characters); it is printed on every page")
    return " ".join(text.split())


def parse_moment(text: str):
    from datetime import datetime

    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write the date and time as 'YYYY-MM-DD HH:MM', e.g. '2026-07-12 14:30'") from None


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-05-05") from None


def add_date_options(command) -> None:
    """The start date's checks (dosing.dates): the reason to go past them, and the date taken as today."""
    command.add_argument("--override-dates", type=parse_reason, metavar="REASON",
                         help="make the sheet although a date check refuses it (induction long after diagnosis, a phase "
                              "before the one it follows could end, an old weight); the reason is printed on every page")
    command.add_argument("--today", type=parse_date, metavar="DATE",
                         help="the date taken as today, YYYY-MM-DD, for the far-from-today warning "
                              "(default: the DOSING_TODAY environment variable, else the computer's date)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dosing", description="ALL-Baby-2021 chemotherapy order sheets for infants.")
    top.add_argument("--version", action="version", version=f"dosing {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sheet = commands.add_parser("sheet", help="compute a phase's orders and write its sheets",
                                description="Compute a phase's orders for one or more patient files and write the sheets.")
    sheet.add_argument("patients", nargs="+", type=Path, metavar="PATIENT", help="patient file(s), TOML")
    sheet.add_argument("--phase", required=True, choices=PHASES, help="the phase to order")
    sheet.add_argument("--start", required=True, type=parse_date, metavar="DATE", help="date of day 1 of the phase, YYYY-MM-DD")
    sheet.add_argument("--out", type=Path, default=Path("sheets"), metavar="DIR", help="folder for the sheets (default: sheets)")
    sheet.add_argument("--format", choices=("pdf", "html", "json"), default="pdf",
                       help="pdf or html files in --out, or json on standard output (default: pdf)")
    sheet.add_argument("--regimens", type=Path, metavar="DIR", help="a centre's own regimens/ folder (default: the one shipped)")
    sheet.add_argument("--infusion-start", type=parse_clock, metavar="HH:MM",
                       help="clock time on day 1 when the high-dose methotrexate infusion starts (HR1, HR2); rescue times follow it")
    sheet.add_argument("--weeks", type=parse_weeks, metavar="N", help="print N weeks of the phase (maintenance: default 8)")
    sheet.add_argument("--from", dest="window_from", type=parse_date, metavar="DATE", help="first date of the weeks printed (default: --start)")
    sheet.add_argument("--documents", type=parse_documents, metavar="LIST",
                       help="which documents to write, comma-separated: orders, intrathecal, calendar, record, infusion, "
                            "preparation (default: all the phase has)")
    sheet.add_argument("--bag-hours", type=int, default=24, metavar="HOURS",
                       help="blinatumomab: hours each bag runs, 24, 48, 72 or 96 (168 only from 22 kg); default 24")
    sheet.add_argument("--override-pathway", type=parse_reason, metavar="REASON",
                       help="order a phase the patient's results do not lead to; the reason is printed on every page")
    add_date_options(sheet)
    sheet.add_argument("--substitute", metavar="NAME",
                       help="give a substitution from the regimen data instead of the drug it replaces, e.g. crisantaspase "
                            "for PEG-asparaginase after hypersensitivity; printed on every document")
    sheet.add_argument("--reissue", type=parse_reason, metavar="REASON",
                       help="issue a new version even though nothing has changed (a lost or damaged sheet); the reason is recorded")

    verify = commands.add_parser("verify", help="recompute an issued sheet from the inputs recorded for it",
                                 description="Find SHEET in the issue log beside it, check the log's seals, read the sheet's own "
                                             "text, recompute its orders from the recorded inputs, and say whether every dose still "
                                             "matches. A centre that seals its logs with a key sets DOSING_LOG_KEY or "
                                             "DOSING_LOG_KEY_FILE for every run that issues and every verify.")
    verify.add_argument("sheet_file", type=Path, metavar="SHEET", help="an issued sheet (PDF or HTML)")
    verify.add_argument("--regimens", type=Path, metavar="DIR", help="a centre's own regimens/ folder")

    resume = commands.add_parser("blinatumomab-resume", help="the remaining blinatumomab bags after an interruption",
                                 description="Recompute the blinatumomab bags after an interruption: up to 7 days, continue to "
                                             "28 infusion days in total; longer, a new course (reference.md §9).")
    resume.add_argument("patient", type=Path, metavar="PATIENT", help="patient file, TOML")
    resume.add_argument("--start", required=True, type=parse_date, metavar="DATE", help="day 1 of the blinatumomab course, YYYY-MM-DD")
    resume.add_argument("--infusion-start", type=parse_clock, metavar="HH:MM", help="when the first bag went up on day 1 (default 08:00)")
    resume.add_argument("--stopped", required=True, type=parse_moment, metavar="'YYYY-MM-DD HH:MM'", help="when the infusion stopped")
    resume.add_argument("--restart", required=True, type=parse_moment, metavar="'YYYY-MM-DD HH:MM'", help="when it restarts")
    resume.add_argument("--bag-hours", type=int, default=24, metavar="HOURS", help="hours each new bag runs (default 24)")
    resume.add_argument("--out", type=Path, default=Path("sheets"), metavar="DIR")
    resume.add_argument("--format", choices=("pdf", "html", "json"), default="pdf")
    resume.add_argument("--regimens", type=Path, metavar="DIR")
    resume.add_argument("--override-pathway", type=parse_reason, metavar="REASON")
    add_date_options(resume)

    serve = commands.add_parser("serve", help="the same work as a page in your browser (needs: pip install \".[web]\")",
                                description="Start the pharmacy page on this computer and print its address. It listens on "
                                            "127.0.0.1 only, unless --host says otherwise.")
    serve.add_argument("--port", type=int, default=8400, metavar="PORT", help="port to listen on (default 8400)")
    serve.add_argument("--host", default="127.0.0.1", metavar="HOST",
                       help="address to listen on (default 127.0.0.1: this computer only); anyone who can reach another can make sheets")
    serve.add_argument("--out", type=Path, default=Path("sheets"), metavar="DIR", help="folder for the sheets and issue log (default: sheets)")
    serve.add_argument("--regimens", type=Path, metavar="DIR", help="a centre's own regimens/ folder (default: the one shipped)")

    plan = commands.add_parser("plan", help="the risk group and the phases the results lead to",
                               description="Show the risk group, the phases the patient's results lead to so far, the result awaited, and estimated dates.")
    plan.add_argument("patient", type=Path, metavar="PATIENT", help="patient file, TOML")
    plan.add_argument("--format", choices=("text", "json"), default="text")
    plan.add_argument("--start", type=parse_date, metavar="DATE", help="date induction started (default: the diagnosis date), for the estimated dates")
    plan.add_argument("--regimens", type=Path, metavar="DIR", help="a centre's own regimens/ folder")
    return top


def main(argv=None) -> int:
    arguments = parser().parse_args(argv)
    try:
        command = {"plan": _plan, "sheet": _sheet, "blinatumomab-resume": _resume, "verify": _verify, "serve": _serve}[arguments.command]
        return command(arguments)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not bad input: still no traceback, and no sheet
        print(f"dosing: refused: internal error ({type(exc).__name__}: {exc}); no sheet was written. "
              "Please report this with the patient file.", file=sys.stderr)
        return EXIT_REFUSED


def _sheet(arguments) -> int:
    # Started first, so WeasyPrint loads in another process while the doses are computed.
    printer = None
    if arguments.format == "pdf":
        from dosing.printer import Printer

        printer = Printer()
    try:
        return _sheets(arguments, printer)
    finally:
        if printer is not None:
            printer.cancel()


def _sheets(arguments, printer) -> int:
    from dosing.errors import InputError, RegimenError
    from dosing.regimen import load_phase, load_protocol

    try:
        protocol = load_protocol(arguments.regimens)
        phase = load_phase(protocol, arguments.phase)
    except RegimenError as exc:
        print(f"dosing: refused: regimen data: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    from dosing.sheets import Pending, prepare

    status, results = EXIT_OK, []
    for path in arguments.patients:
        try:
            result = prepare(path, protocol, phase, arguments)
        except (InputError, RegimenError) as exc:
            print(f"dosing: refused: {path}: {exc}", file=sys.stderr)
            status = EXIT_REFUSED
            continue
        if isinstance(result, Pending):
            from dosing import render

            result.htmls = [render.html(d) for d in result.documents]
            if printer is not None:
                printer.submit(result.htmls)  # laid out while the next patient is computed
        results.append((path, result))
    pending = [(path, result) for path, result in results if isinstance(result, Pending)]
    if pending:
        made = printer.collect() if printer is not None else [h.encode("utf-8") for _, p in pending for h in p.htmls]
        for path, result in pending:
            mine, made = made[:len(result.documents)], made[len(result.documents):]
            try:
                for written in result.finish(mine):
                    print(written)
            except (InputError, RegimenError) as exc:
                print(f"dosing: refused: {path}: {exc}", file=sys.stderr)
                status = EXIT_REFUSED
                continue
            finally:
                for line in result.recovered:  # a run stopped while issuing into this folder, rolled back (dosing.output)
                    print(f"note: {line}", file=sys.stderr)
            for warning in result.orders.warnings:
                print(f"warning: {path}: {warning}", file=sys.stderr)
    results = [result for _, result in results]
    if arguments.format == "json" and results:
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
        return web.serve(arguments.host, arguments.port, arguments.out, arguments.regimens)
    except InputError as exc:
        print(f"dosing: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except RegimenError as exc:
        print(f"dosing: refused: regimen data: {exc}", file=sys.stderr)
        return EXIT_REFUSED


def _plan(arguments) -> int:
    from dosing import patient as patients
    from dosing.errors import InputError, RegimenError
    from dosing.pathway import plan, with_dates
    from dosing.regimen import load_protocol

    try:
        patient = patients.load(arguments.patient)
        protocol = load_protocol(arguments.regimens)
        result = with_dates(plan(patient, protocol), protocol, patient, arguments.start)
    except (InputError, RegimenError) as exc:
        print(f"dosing: refused: {arguments.patient}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if arguments.format == "json":
        print(json.dumps({
            "patient": {"id": patient.id, "birth_date": patient.birth_date.isoformat()},
            "initial_risk": result.initial_risk,
            "current_risk": result.current_risk,
            "phases": list(result.phases),
            "awaiting": result.awaiting,
            "off_protocol": result.off_protocol,
            "reasons": list(result.reasons),
            "estimated": [{"phase": s.phase, "start": s.start and s.start.isoformat(), "end": s.end and s.end.isoformat()} for s in result.steps],
        }, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"{patient.name} ({patient.id}), born {patient.birth_date}, diagnosed {patient.diagnosis_date}")
    print(f"Risk group: {result.initial_risk} at diagnosis, {result.current_risk} now")
    for reason in result.reasons:
        print(f"  - {reason}")
    print("Phases (estimated dates; counts and results decide the real ones):")
    for step in result.steps:
        when = f"from {step.start}" + (f" to {step.end}" if step.end else " (referral)")
        print(f"  {step.phase:<16} {when}")
    if result.off_protocol:
        print("OFF PROTOCOL: nothing further is planned.")
    print(f"Awaiting: {result.awaiting or 'nothing'}")
    return EXIT_OK


def _resume(arguments) -> int:
    from dosing.errors import InputError, RegimenError
    from dosing.json_orders import bag_dict
    from dosing.regimen import load_protocol
    from dosing.sheets import resume

    try:
        found = resume(arguments.patient, load_protocol(arguments.regimens), arguments)
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
        from dosing import render

        make = render.pdf if arguments.format == "pdf" else lambda d: render.html(d).encode("utf-8")
        for written in found.finish([make(d) for d in found.documents]):
            print(written)
        for line in found.recovered:
            print(f"note: {line}", file=sys.stderr)
        for line in found.said:
            print(f"note: {line}", file=sys.stderr)
        return EXIT_OK
    except (InputError, RegimenError) as exc:
        print(f"dosing: refused: {arguments.patient}: {exc}", file=sys.stderr)
        return EXIT_REFUSED


def _verify(arguments) -> int:
    from dosing.errors import InputError, RegimenError
    from dosing.sheets import verify

    try:
        result = verify(arguments.sheet_file, arguments.regimens)
    except (InputError, RegimenError) as exc:
        print(f"dosing: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print("\n".join(result.said))
    return EXIT_OK if result.matches else EXIT_REFUSED
