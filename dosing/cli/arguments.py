"""The command line's arguments: what each command takes, with its help.

Each value is read by the parser dosing.requests has for it (the web page reads
its form with the same ones); here a value that cannot be read becomes
argparse's usage error (exit 2) with the parser's own message.
"""

import argparse
import os
from pathlib import Path

from dosing import __version__, requests
from dosing.cli.fhir_import import add_import_command
from dosing.cli.regimen_export import add_regimen_command
from dosing.requests import PHASES


def _for_argparse(parse):
    """A dosing.requests parser as argparse calls it: its refusal is the usage error, in its own words."""
    def read(text: str):
        try:
            return parse(text)
        except requests.OptionError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    read.__name__ = parse.__name__
    return read


parse_date, parse_clock, parse_weeks, parse_documents, parse_reason, parse_moment = map(_for_argparse, (
    requests.parse_date, requests.parse_clock, requests.parse_weeks, requests.parse_documents, requests.parse_reason,
    requests.parse_moment))


def add_date_options(command) -> None:
    """The start date's checks (dosing.dates): the reason to go past them, and the date taken as today."""
    command.add_argument("--override-dates", type=parse_reason, metavar="REASON",
                         help="make the sheet although a date check refuses it (induction long after diagnosis, a phase "
                              "before the one it follows could end, an old weight); the reason is printed on every page")
    command.add_argument("--today", type=parse_date, metavar="DATE",
                         help="the date taken as today, YYYY-MM-DD, for the far-from-today warning "
                              "(default: the DOSING_TODAY environment variable, else the computer's date)")


def add_pharmacy_commands(commands) -> None:
    """`dosing users ...` and `dosing db ...`: the pharmacy server's accounts and database (dosing.cli.pharmacy)."""
    from dosing.store.database import DEFAULT_URL

    def database_option(command) -> None:
        # DOSING_DB: the hospital's URL set once (e.g. in the service's environment), not typed into every command
        command.add_argument("--db", default=os.environ.get("DOSING_DB") or DEFAULT_URL, metavar="URL",
                             help=f"sqlite:///PATH or postgresql+psycopg://USER@HOST/NAME (default: $DOSING_DB, else {DEFAULT_URL})")

    users = commands.add_parser("users", help="the pharmacy server's accounts: add, list, disable",
                                description="Accounts for `dosing serve --db URL`. Roles: pharmacist (prepares, verifies, "
                                            "issues), nurse (records administrations), admin (accounts, the audit trail).")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="a new account; the password is read from standard input",
                             description="Add an account. The password is read from standard input: typed twice on a "
                                         "terminal, or the first line of a pipe. At least 12 characters, not the name.")
    add.add_argument("name", metavar="NAME", help="1 to 64 letters, digits, dots, hyphens or underscores")
    add.add_argument("--role", required=True, metavar="ROLE", help="pharmacist, nurse or admin")
    database_option(add)
    listing = actions.add_parser("list", help="every account, its role and whether it may log in")
    database_option(listing)
    disable = actions.add_parser("disable", help="stop an account logging in and end its sessions (never deleted)")
    disable.add_argument("name", metavar="NAME")
    database_option(disable)

    db = commands.add_parser("db", help="the pharmacy server's database: upgrade, import an issue log",
                             description="Bring the database's schema up to date, or import an existing issue log.")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="bring the schema to the newest migration and say its revision")
    database_option(upgrade)
    imported = actions.add_parser("import-log", help="import a sheets folder's issue-log.sqlite (and the sheets beside it)")
    imported.add_argument("folder", type=Path, metavar="FOLDER", help="the folder holding issue-log.sqlite")
    database_option(imported)


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
    sheet.add_argument("--format", choices=("pdf", "html", "json", "fhir"), default="pdf",
                       help="pdf or html files in --out, or json or fhir (an HL7 FHIR R4 Bundle) on standard output (default: pdf)")
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
    sheet.add_argument("--override-results", type=parse_reason, metavar="REASON",
                       help="start although a result fails the phase's start criteria (neutrophils, platelets, creatinine ...: "
                            "results.toml); the reason is printed on every page and recorded")
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
                                             "28 infusion days in total; longer, a new course (docs/reference.md §9).")
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
    serve.add_argument("--db", metavar="URL", default=os.environ.get("DOSING_DB") or None,
                       help="the pharmacy team's database, sqlite:///PATH or postgresql+psycopg://USER@HOST/NAME; with accounts "
                            "in it, everyone logs in (default: $DOSING_DB, else pharmacy.sqlite here, if it exists)")
    serve.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                       help="another name the page is reached by (the Host the browsers send, e.g. dosing.ward.example); repeat for more")
    serve.add_argument("--trusted-proxy", metavar="ADDR",
                       help="the address of the hospital's TLS reverse proxy, whose X-Forwarded-For and X-Forwarded-Proto are believed")
    add_pharmacy_commands(commands)
    add_regimen_command(commands)
    add_import_command(commands)

    plan = commands.add_parser("plan", help="the risk group and the phases the results lead to",
                               description="Show the risk group, the phases the patient's results lead to so far, the result awaited, and estimated dates.")
    plan.add_argument("patient", type=Path, metavar="PATIENT", help="patient file, TOML")
    plan.add_argument("--format", choices=("text", "json", "html", "pdf"), default="text",
                      help="text or json on standard output, or a one-page html or pdf with the plan as a timeline in --out (default: text)")
    plan.add_argument("--out", type=Path, default=Path("sheets"), metavar="DIR", help="folder for the html or pdf (default: sheets)")
    plan.add_argument("--today", type=parse_date, metavar="DATE",
                      help="the date marked as today on the timeline (default: the DOSING_TODAY environment variable, else the computer's date)")
    plan.add_argument("--start", type=parse_date, metavar="DATE", help="date induction started (default: the diagnosis date), for the estimated dates")
    plan.add_argument("--regimens", type=Path, metavar="DIR", help="a centre's own regimens/ folder")
    return top
