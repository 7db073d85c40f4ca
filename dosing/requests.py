"""What a sheet is asked for with: the options the command line and the web page share.

The command line (`dosing.cli`) reads these options from its arguments and the
web page (`dosing.web`) from its form; both read each value with the same
parser here and build the same `Request`, so a date, a time or a reason is
refused with the same words wherever it is typed. Neither front end imports the
other: they meet here.
"""

from datetime import date, datetime, time, timedelta
from pathlib import Path

import attrs

PHASES = (
    "induction", "consolidation_1", "reinduction_1", "consolidation_2", "reinduction_2",
    "consolidation_3", "maintenance", "HR1", "HR2", "HR3", "protocol_II", "blinatumomab",
)

#: the document a user names -> the kind of document the sheets call it
DOCUMENTS = {"orders": "orders", "intrathecal": "intrathecal", "calendar": "calendar", "record": "administration-record",
             "infusion": "infusion", "preparation": "preparation"}

#: a window asked for with --from but no --weeks runs this long (the longest a phase lasts)
LONGEST_WINDOW_WEEKS = 104


class OptionError(ValueError):
    """A value that cannot be read for an option; the message says how to write it, and is shown as it is."""


# -- each option's value, read from the text typed -----------------------------

def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise OptionError(f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-05-05") from None


def parse_clock(text: str) -> time:
    try:
        if len(text) == 5:  # HH:MM only: "10:00:00" or "1000" are not what the sheets print
            return time.fromisoformat(text)
    except ValueError:
        pass
    raise OptionError(f"{text!r} is not a time; write it as HH:MM, e.g. 10:00")


def parse_weeks(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= LONGEST_WINDOW_WEEKS:
        raise OptionError(f"{text!r}: give a whole number of weeks from 1 to {LONGEST_WINDOW_WEEKS}")
    return int(text)


def parse_documents(text: str) -> frozenset:
    asked = {part.strip() for part in text.split(",") if part.strip()}
    unknown = asked - set(DOCUMENTS)
    if unknown or not asked:
        raise OptionError(f"unknown document {', '.join(sorted(unknown)) or '(none)'}; choose from {', '.join(DOCUMENTS)}")
    return frozenset(DOCUMENTS[name] for name in asked)


def parse_reason(text: str) -> str:
    # Printed on every page: a reason in words, not "ok" or "x".
    if len(text.strip()) < 10:
        raise OptionError("give the clinical reason in words (at least 10 characters); it is printed on every page")
    return " ".join(text.split())


def parse_moment(text: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise OptionError(f"{text!r}: write the date and time as 'YYYY-MM-DD HH:MM', e.g. '2026-07-12 14:30'") from None


def parse_bag_hours(text: str) -> int:
    """The hours a blinatumomab bag runs, as a whole number (which numbers the product allows is the regimen data's to say)."""
    if not text.isdigit():
        raise OptionError(f"{text!r}: give the hours each bag runs as a whole number, e.g. 24")
    return int(text)


# -- the requests ----------------------------------------------------------------

@attrs.frozen
class Request:
    """What a sheet is asked for with: the command line's options, by the same names."""

    start: date
    out: Path
    format: str = "pdf"  #: pdf, html or json
    infusion_start: time | None = None
    weeks: int | None = None
    window_from: date | None = None
    documents: frozenset | None = None  #: document kinds; None for all the phase has
    bag_hours: int = 24
    override_pathway: str | None = None
    reissue: str | None = None
    substitute: str | None = None  #: a substitution from the regimen data the pharmacist chose (issue 12)
    override_dates: str | None = None  #: a pharmacist's reason to make a sheet whose dates are refused (dosing.dates)
    today: date | None = None  #: the date the sheet is made (default: DOSING_TODAY, else the computer's date)
    override_results: str | None = None  #: a clinician's reason to start although a result fails a start criterion (dosing.criteria)


@attrs.frozen
class ResumeRequest:
    """What the blinatumomab bags after an interruption are asked for with (`dosing blinatumomab-resume`)."""

    start: date  #: day 1 of the course
    stopped: datetime  #: when the infusion stopped
    restart: datetime  #: when it restarts
    out: Path
    format: str = "pdf"
    infusion_start: time | None = None  #: when the first bag went up on day 1
    bag_hours: int = 24  #: hours each new bag runs
    override_pathway: str | None = None
    override_dates: str | None = None
    today: date | None = None


def printed_window(request: Request, phase) -> tuple[date, date] | None:
    """The first and last date the sheet prints, from --weeks and --from; None for the whole phase.

    A phase with `default_weeks` in its regimen data (maintenance) prints that
    many weeks when --weeks is not given.
    """
    weeks = request.weeks or (phase.default_weeks.value if phase.default_weeks is not None else None)
    if not weeks and not request.window_from:
        return None
    first = request.window_from or request.start
    return first, first + timedelta(weeks=weeks or LONGEST_WINDOW_WEEKS) - timedelta(days=1)


def window_asked(request: Request) -> dict:
    """The window as asked (not as derived), so the second check can choose the window itself."""
    return {"weeks": request.weeks, "window_from": request.window_from}


def request_options(request: Request, window) -> dict:
    """What shapes the orders besides the patient file and the regimen data (recorded, so verify can redo it)."""
    return {
        "format": request.format,
        "infusion_start": request.infusion_start.strftime("%H:%M") if request.infusion_start else None,
        "window": [window[0].isoformat(), window[1].isoformat()] if window else None,
        "override": request.override_pathway,
        "bag_hours": request.bag_hours,
        "substitute": request.substitute,
        "override_dates": request.override_dates,
        "override_results": request.override_results,
    }
