"""Dates that make sense: every phase start checked against the protocol and the patient file.

A sheet's day 1 is refused (exit 3) when
- it is before the diagnosis date (always: no reason can make that right);
- induction starts more than `induction_within_days` after diagnosis;
- a later phase starts before the phases before it on this patient's
  pathway could have ended, counted from the diagnosis date (each phase's
  length, or for the blocks the days to the next block: `pathway.with_dates`);
- it is after the protocol's end (maintenance ends 104 weeks after diagnosis);
- the weight and length the doses use were measured more than
  `measurement_max_age_days` before it;
- a [[labs]] result is dated after it (a methotrexate level: after today);
unless the pharmacist gives a reason (`--override-dates "REASON"`), which is
then printed on every page with what it overrides (a finding). A first
printed date far from today is a finding only. The limits are regimen data: the `[dates]`
table of the protocol's protocol.toml, each with its provenance.

"Today" is injectable (`--today`, or the DOSING_TODAY environment variable)
so that tests and examples give the same sheet on any day.
"""

import os
from datetime import date
from functools import cache
from pathlib import Path

import attrs

from dosing.errors import InputError
from dosing.findings import NOTICE, Finding
from dosing.regimen import Source, Value, known_keys, tagged

TODAY_VARIABLE = "DOSING_TODAY"
OVERRIDE_FIX = 'to order it anyway, give --override-dates "REASON" (printed on every page)'


@attrs.frozen
class DateLimits:
    induction_within_days: Value  #: induction day 1 at most this many days after the diagnosis date
    measurement_max_age_days: Value  #: the weight and length no older than this on day 1
    far_from_today_days: Value  #: a first printed date further than this from today is a warning


_KEYS = {
    "induction_within_days": "induction start window after diagnosis",
    "measurement_max_age_days": "oldest measurement a sheet may use",
    "far_from_today_days": "start far from today (warning)",
}


def load_limits(protocol) -> DateLimits:
    """The protocol's [dates] table (required: without it no start date could be checked)."""
    return _load_limits(protocol.directory / "protocol.toml")


@cache
def _load_limits(path: Path) -> DateLimits:
    source = Source(path)
    line = source.header_line("[dates]")
    table = source.data.get("dates")
    if not isinstance(table, dict):
        raise source.error(line, "[dates] is missing or not a table: the limits every start date is checked against "
                                 "(see regimens/all-baby-2021/protocol.toml as shipped)")
    known_keys(source, table, tuple(_KEYS), line, "[dates]")
    values = {}
    for key, what in _KEYS.items():
        value = tagged(source, table, key, line, what)
        if not isinstance(value.value, int) or isinstance(value.value, bool) or value.value < 1:
            raise source.error(source.key_line(key, line), f"{key} must be a whole number of days, 1 or more")
        values[key] = value
    return DateLimits(**values)


def today(given: date | None = None) -> date:
    """`given`, else DOSING_TODAY (YYYY-MM-DD), else the computer's date."""
    if given is not None:
        return given
    text = os.environ.get(TODAY_VARIABLE, "").strip()
    if not text:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(TODAY_VARIABLE, f"{text!r} is not a date", "write it as YYYY-MM-DD, or unset it to use today's date") from None


def earliest_start(patient, protocol, phase_name: str) -> tuple[date, str]:
    """The first day a phase could start, and how: the diagnosis date plus the phases before it.

    From the patient's pathway (`pathway.plan`): each phase before this one
    takes its length, a block the days to the next block. A phase the
    pathway does not lead to (ordered with --override-pathway) comes after
    induction at the earliest.
    """
    from dosing.pathway import plan, with_dates

    diagnosis = patient.diagnosis_date
    if phase_name == "induction":
        return diagnosis, "induction starts on or after the diagnosis date"
    pathway = plan(patient, protocol)
    before = list(pathway.phases[:pathway.phases.index(phase_name)]) if phase_name in pathway.phases else ["induction"]
    steps = with_dates(attrs.evolve(pathway, phases=tuple(before) + (phase_name,)), protocol, patient, diagnosis).steps
    earliest = steps[-1].start
    gaps = ", ".join(f"{s.phase} {(after.start - s.start).days} days" for s, after in zip(steps, steps[1:]))
    return earliest, f"diagnosed {diagnosis}, then {gaps}"


def protocol_end(patient, protocol) -> tuple[date, str] | None:
    """The last day of the protocol for this patient: the latest phase that ends "N weeks after diagnosis"."""
    from dosing.regimen import load_phase

    ends = []
    for name in protocol.phases:
        phase = load_phase(protocol, name)
        last = phase.last_date(patient.diagnosis_date)
        if last is not None:
            ends.append((last, f"{phase.title.lower()} ends {phase.ends.value}"))
    return max(ends) if ends else None


def check(patient, protocol, phase, start: date, *, first_printed: date | None = None, today_is: date | None = None,
          override: str | None = None) -> tuple:
    """The sheet's notices about its dates (dosing.findings.Finding); InputError when a date is refused.

    `first_printed` is the first date the sheet covers (a maintenance window's
    --from); `today_is` the date the sheet is made (default: `today()`).
    """
    limits = load_limits(protocol)
    diagnosis = patient.diagnosis_date
    if start < diagnosis:
        raise InputError("--start", f"{start} is before the diagnosis date {diagnosis}", "give the date of day 1 of the phase")
    refused = []  # (field, problem, fix)
    if phase.name == "induction":
        within, after = limits.induction_within_days.value, (start - diagnosis).days
        if after > within:
            refused.append(("--start", f"induction day 1 {start} is {after} days after the diagnosis date {diagnosis} "
                                       f"(induction starts within {within} days of diagnosis)",
                            "check the start date (and the diagnosis date in the patient file)"))
    else:
        earliest, how = earliest_start(patient, protocol, phase.name)
        if start < earliest:
            early = (earliest - start).days
            refused.append(("--start", f"{phase.title} cannot start before {earliest}: {start} is {early} day{'s' if early != 1 else ''} "
                                       f"too early ({how})",
                            f"check the start date ({earliest} or later)"))
    # An induction inside its window is weeks before any end the protocol sets: the phase files are
    # read for the end (about 30 ms) only for a later phase, or an induction already out of its window.
    end = protocol_end(patient, protocol) if phase.name != "induction" or refused else None
    if end is not None and start > end[0]:
        refused.append(("--start", f"{start} is after the end of the protocol, {end[0]} ({end[1]})", "check the start date"))
    measured = patient.measurement_on(start)
    oldest, age = limits.measurement_max_age_days.value, (start - measured.date).days
    if age > oldest:
        refused.append(("measurements", f"the weight and length used were measured {measured.date}, {age} days before day 1 {start} "
                                        f"(a sheet uses a measurement at most {oldest} days old)",
                        "weigh and measure the infant and add a [[measurements]] entry, or check the start date"))
    now, first, far = today(today_is), first_printed or start, limits.far_from_today_days.value
    refused.extend(_results_too_late(patient, first, now, "day 1" if first == start else "the first day this sheet covers"))
    distance = (first - now).days
    away = FarFromToday(first, first == start, distance, now, far) if abs(distance) > far else None
    if refused and not override:
        problems = "; and ".join(problem for _, problem, _ in refused) + (f"; {far_text(away)}" if away else "")
        fixes = "; or ".join(dict.fromkeys(fix for _, _, fix in refused))
        raise InputError(refused[0][0], problems, f"{fixes}; {OVERRIDE_FIX}")
    found = []
    if override:
        found.append(Finding("dates override", DatesOverride(tuple(problem for _, problem, _ in refused), override), NOTICE))
    if away:
        found.append(Finding("far from today", away, NOTICE))
    return tuple(found)


def _results_too_late(patient, start: date, now: date, which: str) -> list:
    """A result dated after the sheet's first day (day 1, or the first date a maintenance window covers) was not
    known when the sheet's decisions were made, or has a slip in its date. A maintenance sheet for later weeks is
    decided on the counts taken before those weeks (dosing.adjustments takes them up to the window's first day).

    A methotrexate level is drawn after its infusion, inside the phase, and a
    rescue sheet is reissued as each comes in: it is refused only when dated
    after today (no level is reported before it is taken).
    """
    late = [r for r in patient.labs if r.date is not None and r.test != "methotrexate" and r.date > start]
    future = [r for r in patient.labs if r.date is not None and r.test == "methotrexate" and r.date > now]
    found = []
    if late:
        found.append((f"labs[{late[0].entry}].date", f"{_listed(late)} {'is' if len(late) == 1 else 'are'} dated after "
                                                     f"{which} {start}: a sheet is decided on results taken by then",
                      "check the date of the result, or the start date"))
    if future:
        found.append((f"labs[{future[0].entry}].date", f"{_listed(future)} {'is' if len(future) == 1 else 'are'} dated "
                                                       f"after today {now}", "check the date of the level (or the computer's date)"))
    return found


def _listed(results) -> str:
    """'labs[1] (wbc, 2026-08-31), labs[2] (anc, 2026-08-31) and 5 more': a refusal is read, not a copy of the file."""
    shown = [f"labs[{r.entry}] ({r.test}, {r.date})" for r in results[:3]]
    more = len(results) - len(shown)
    if more:
        return ", ".join(shown) + f" and {more} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f" and {shown[-1]}"


@attrs.frozen
class DatesOverride:
    """The date checks the pharmacist's reason overrides (none: the reason was given where no check needed it)."""

    overridden: tuple[str, ...]  #: each refusal, as the refusal states it
    reason: str


@attrs.frozen
class FarFromToday:
    first: date  #: the first date the sheet prints
    is_day_one: bool  #: that date is day 1 (not a maintenance window's first date)
    days: int  #: from today to it: negative in the past
    today: date
    within: int  #: the protocol's limit, in days


def far_text(far: FarFromToday) -> str:
    """How far from today the sheet starts, as the refusal states it beside the other problems."""
    what = "day 1" if far.is_day_one else "the first date printed"
    return f"{what} ({far.first}) is {abs(far.days)} days in the {'future' if far.days > 0 else 'past'} (today is {far.today})"
