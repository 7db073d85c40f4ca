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


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-05-05") from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dosing", description="ALL-Baby-2021 chemotherapy order sheets for infants.")
    top.add_argument("--version", action="version", version=f"dosing {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sheet = commands.add_parser("sheet", help="compute a phase's orders and write its sheets",
                                description="Compute a phase's orders for one or more patient files and write the sheets.")
    sheet.add_argument("patients", nargs="+", type=Path, metavar="PATIENT", help="patient file(s), TOML")
    sheet.add_argument("--phase", required=True, choices=PHASES, help="the phase to order")
    sheet.add_argument("--start", required=True, type=_date, metavar="DATE", help="date of day 1 of the phase, YYYY-MM-DD")
    sheet.add_argument("--out", type=Path, default=Path("sheets"), metavar="DIR", help="folder for the sheets (default: sheets)")
    sheet.add_argument("--format", choices=("pdf", "html", "json"), default="pdf",
                       help="pdf or html files in --out, or json on standard output (default: pdf)")
    sheet.add_argument("--regimens", type=Path, metavar="DIR", help="a centre's own regimens/ folder (default: the one shipped)")
    return top


def main(argv=None) -> int:
    arguments = parser().parse_args(argv)
    try:
        return _sheet(arguments)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not bad input: still no traceback, and no sheet
        print(f"dosing: refused: internal error ({type(exc).__name__}: {exc}); no sheet was written. "
              "Please report this with the patient file.", file=sys.stderr)
        return EXIT_REFUSED


def _sheet(arguments) -> int:
    from dosing.errors import InputError, RegimenError
    from dosing.regimen import load_phase, load_protocol

    try:
        protocol = load_protocol(arguments.regimens)
        phase = load_phase(protocol, arguments.phase)
    except RegimenError as exc:
        print(f"dosing: refused: regimen data: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    status, results = EXIT_OK, []
    for path in arguments.patients:
        try:
            results.append(_one(path, protocol, phase, arguments))
        except (InputError, RegimenError) as exc:
            print(f"dosing: refused: {path}: {exc}", file=sys.stderr)
            status = EXIT_REFUSED
    if arguments.format == "json" and results:
        print(json.dumps(results[0] if len(arguments.patients) == 1 else results, indent=2, ensure_ascii=False))
    return status


def _one(path: Path, protocol, phase, arguments):
    from dosing import patient as patients
    from dosing.schedule import phase_orders

    orders = phase_orders(patients.load(path), protocol, phase, arguments.start)
    if arguments.format == "json":
        from dosing.json_orders import as_dict

        return as_dict(orders)
    from dosing import render
    from dosing.order_sheet import documents
    from dosing.output import safe_stem, write_new

    stem = safe_stem(orders.patient.id, phase.name, orders.start)
    make = render.pdf if arguments.format == "pdf" else lambda d: render.html(d).encode("utf-8")
    files = {f"{stem}_{d.kind}.{arguments.format}": make(d) for d in documents(orders)}
    for written in write_new(arguments.out, files):
        print(written)
    for warning in orders.warnings:
        print(f"warning: {path}: {warning}", file=sys.stderr)
    return str(path)
