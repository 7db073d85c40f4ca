"""The patient file's results and other medicines: [[labs]], [genotype], [[medications]].

Between fields.py (one value) and build.py (the Patient): each [[labs]] entry
becomes a dosing.results.LabResult, refused with its field (`labs[2].value`)
and the fix when its unit does not fit the test, its value is impossible
(negative, or above dosing.bounds.LAB_MAX with the reason), its time is not
HH:MM, or a methotrexate level has neither a date nor hours after the start
of the infusion. A result dated after the phase's day 1 is refused where the
start is known, in dosing/dates.py.
"""

import math
import re
from datetime import date, datetime, time
from difflib import get_close_matches

from dosing import bounds
from dosing.errors import InputError
from dosing.patient import fields
from dosing.patient.messages import brief
from dosing.results import PHENOTYPES, TESTS, Genotype, LabResult
from dosing.units import LAB_EXAMPLES, LAB_NAMES, LAB_UNITS_SHOWN, Q, parse_lab

_CLOCK = r"^([01][0-9]|2[0-3]):([0-5][0-9])\Z"  # compiled on first use (re keeps it): few results give a time

# Names a ward or a laboratory report uses for a test, offered as a hint when written as `test` (never read
# as the test itself: the file says which test it is in the one word the format defines).
_HINTS = {"neutrophils": "anc", "neutrophil": "anc", "anc": "anc", "plt": "platelets", "platelet": "platelets",
          "white cells": "wbc", "leukocytes": "wbc", "leucocytes": "wbc", "hb": "hemoglobin", "hgb": "hemoglobin",
          "haemoglobin": "hemoglobin", "creat": "creatinine", "bili": "bilirubin", "alat": "alt", "gpt": "alt",
          "mtx": "methotrexate", "asparaginase": "asparaginase_activity"}


def labs(data: dict, birth: date) -> tuple[LabResult, ...]:
    return tuple(lab(entry, i, birth) for i, entry in fields.entries_of(data, "labs"))


def lab(entry: dict, number: int, birth: date) -> LabResult:
    where = f"labs[{number}]"
    test = _test(entry, where)
    value = _value(entry, where, test)
    hours = _hours(entry, where, test)
    day = fields.calendar_date(entry, "date", where) if "date" in entry or test != "methotrexate" else None
    if day is None and hours is None:
        raise InputError(where, "a methotrexate level needs its date (and time), or its hours after the start of the "
                                "infusion, or both", "write e.g. hours_after_start = 42 (or date = 2026-06-01 and time = \"07:30\")")
    if day is not None:
        fields.after_birth(day, f"{where}.date", birth, "the result was taken")
    clock = _time(entry, where)
    if clock is not None and day is None:
        raise InputError(f"{where}.time", "is given without a date", 'write the date too, e.g. date = 2026-06-01 with time = "07:30"')
    taken = datetime.combine(day, clock or time(0, 0)) if day is not None else None
    return LabResult(test=test, value=value, taken=taken, hours_after_start=hours, entry=number, time_known=clock is not None)


def _test(entry: dict, where: str) -> str:
    value = fields.given(entry, "test", where)
    if isinstance(value, str) and value in TESTS:
        return value
    if isinstance(value, str):
        fields.one_line(value, f"{where}.test", 'write e.g. test = "anc"')
        written = value.strip().lower()
        near = [_HINTS[written]] if written in _HINTS else get_close_matches(written, TESTS, n=1, cutoff=0.6)
        hint = f'did you mean test = "{near[0]}"?' if near else f"write one of: {', '.join(TESTS)}"
    else:
        hint = f"write one of: {', '.join(TESTS)}"
    raise InputError(f"{where}.test", f"{brief(value)} is not a test the patient file knows", hint)


def _value(entry: dict, where: str, test: str):
    """The result with its unit, as the laboratory reported it; refused when the unit or the number is impossible."""
    field, sample = f"{where}.value", LAB_EXAMPLES[test]
    units = " or ".join(dict.fromkeys(LAB_UNITS_SHOWN[test]))
    fix = f'write it in {units}, e.g. value = "{sample}"'
    value = fields.given(entry, "value", where)
    if isinstance(value, bool) or not isinstance(value, str):
        problem = f"the number {value} has no unit" if isinstance(value, (int, float)) else f"{brief(value)} is not a result"
        raise InputError(field, problem, f"write it with its unit in quotes, {fix[len('write it '):]}")
    fields.one_line(value, field, fix)
    try:
        quantity = parse_lab(value, test)
    except ValueError as exc:
        raise InputError(field, f"{brief(value)}: {exc}", fix) from None
    if not math.isfinite(quantity.magnitude):
        raise InputError(field, f"{brief(value)} is not a number", fix)
    if quantity.magnitude < 0:
        raise InputError(field, f"{brief(value)} is negative, which no {LAB_NAMES[test].split(' ', 1)[1]} can be",
                         "check the number (a result below the laboratory's limit of detection is written as that limit or 0)")
    *limits, reason = bounds.LAB_MAX[test]
    # The limit in the unit as written (30 g/dL for a haemoglobin in g/dL), else one of its kind (mg/dL, µmol/L).
    same = [limit for limit in limits if Q(1, limit[1]).units == quantity.units]
    magnitude, unit, shown = (same or [limit for limit in limits if quantity.check(Q(1, limit[1]).dimensionality)])[0]
    if quantity.m_as(unit) > magnitude:
        raise InputError(field, f"{brief(value)} is above {magnitude:g} {shown}: {reason}",
                         f"check the number and its unit, e.g. value = \"{sample}\"")
    return quantity


def _hours(entry: dict, where: str, test: str) -> float | None:
    if "hours_after_start" not in entry:
        return None
    field = f"{where}.hours_after_start"
    if test != "methotrexate":
        raise InputError(field, f"is for a methotrexate level only, not {LAB_NAMES[test]}",
                         "give the date (and time) the sample was taken instead")
    value = entry["hours_after_start"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= bounds.MTX_HOURS_MAX:
        raise InputError(field, f"{brief(value)} is not a number of hours from 0 to {bounds.MTX_HOURS_MAX} after the start "
                                "of the high-dose infusion", "write the hours as a number, e.g. hours_after_start = 42")
    return float(value)


def _time(entry: dict, where: str) -> time | None:
    """The time of day, "07:30" (24-hour clock); None when not given."""
    if "time" not in entry:
        return None
    value = entry["time"]
    fix = 'write it as time = "07:30" (24-hour clock, hours and minutes)'
    if isinstance(value, time) and value.second == value.microsecond == 0 and value.tzinfo is None:
        return value  # an unquoted TOML time, 07:30:00
    match = re.match(_CLOCK, value) if isinstance(value, str) else None
    if not match:
        raise InputError(f"{where}.time", f"{brief(value)} is not a time of day HH:MM", fix)
    return time(int(match.group(1)), int(match.group(2)))


def genotype(data: dict) -> Genotype:
    """The [genotype] table; absent (or a gene left out) means unknown."""
    if "genotype" not in data:
        return Genotype()
    table = fields.table_of(data, "genotype")
    found = {}
    for gene in ("tpmt", "nudt15"):
        value = table.get(gene)
        if value is not None and value not in PHENOTYPES:
            raise InputError(f"genotype.{gene}", f"{brief(value)} is not one of {', '.join(map(repr, PHENOTYPES))} (the CPIC "
                             "phenotypes)", f'write e.g. {gene} = "normal", or leave the line out when it is not known')
        found[gene] = value
    return Genotype(**found)


def medications(data: dict) -> tuple[str, ...]:
    """The [[medications]] names as written (one line each, no invisible characters)."""
    names = []
    for i, entry in fields.entries_of(data, "medications"):
        field, value = f"medications[{i}].name", fields.given(entry, "name", f"medications[{i}]")
        if not isinstance(value, str) or not value.strip():
            raise InputError(field, "must be the medicine's name, non-empty text in quotes", 'write e.g. name = "co-trimoxazole"')
        names.append(fields.one_line(value, field, 'write e.g. name = "co-trimoxazole"'))
    return tuple(names)
