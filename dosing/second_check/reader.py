"""The second check's own plain reader of the files: the patient file and the regimen TOML.

Nothing here comes from the engine's loaders. Each reader follows the written
grammar (regimens/grammar-examples.toml is the table every reader must agree
on) and raises `Unreadable` where a string does not follow it: the engine's
loader has refused such a file already, so reaching one here is itself a
disagreement, reported, never a guess.
"""

import re
import tomllib
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path


class Unreadable(ValueError):
    """A value the written grammar does not allow."""


# -- quantities in the patient file (docs/interfaces.md), case-insensitive as a ward writes them ----------

TO_KG = {"g": Decimal("0.001"), "kg": Decimal(1), "lb": Decimal("0.45359237"), "lbs": Decimal("0.45359237"),
         "oz": Decimal("0.028349523125")}  # the international pound (1959) and its sixteenth
TO_CM = {"mm": Decimal("0.1"), "cm": Decimal(1), "m": Decimal(100), "in": Decimal("2.54")}  # the international inch
_MEASURE = re.compile(r"\s*\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([A-Za-z]+)\s*\Z")  # a plus sign, as the loader reads it


def measure(text, table: dict, what: str) -> Decimal:
    """'6.2 kg' -> Decimal('6.2') (in kg, with TO_KG); one number, one listed unit, nothing else."""
    match = _MEASURE.match(text) if isinstance(text, str) else None
    factor = table.get(match.group(2).lower()) if match else None
    if factor is None:
        raise Unreadable(f"{what} {text!r} is not a number and a unit of {', '.join(table)}")
    value = Decimal(match.group(1)) * factor
    if not value > 0:
        raise Unreadable(f"{what} {text!r} is not above zero")
    return value


def a_date(value, what: str) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            pass
    if type(value) is not date:
        raise Unreadable(f"{what} {value!r} is not a date")
    return value


@dataclass(frozen=True)
class Body:
    """What the patient file says about the infant that a dose needs."""

    birth: date
    diagnosis: date
    measured: date
    kg: Decimal
    cm: Decimal


def body_on(patient_toml: str, day_1: date) -> Body:
    """The birth and diagnosis dates, and the newest measurement dated on or before day 1
    (the first in the file among several on that date: the patient loader allows those only when equal)."""
    data = tomllib.loads(patient_toml)
    head = data["patient"]
    chosen = None
    for i, entry in enumerate(data["measurements"], start=1):
        when = a_date(entry["date"], f"measurements[{i}].date")
        if when <= day_1 and (chosen is None or when > chosen[0]):
            chosen = (when, entry, i)
    if chosen is None:
        raise Unreadable(f"no measurement is dated on or before {day_1}")
    when, entry, i = chosen
    return Body(birth=a_date(head["birth_date"], "patient.birth_date"), diagnosis=a_date(head["diagnosis_date"], "patient.diagnosis_date"),
                measured=when, kg=measure(entry["weight"], TO_KG, f"measurements[{i}].weight"),
                cm=measure(entry["length"], TO_CM, f"measurements[{i}].length"))


# -- regimen strings: the written grammar ----------------------------------------------------------

@dataclass(frozen=True)
class Dose:
    """'1.5 mg/m2' read: an amount of `unit` per m2, per kg or flat (""), for one dose or for the whole day."""

    amount: Decimal
    unit: str  #: mg, mcg or units
    per: str  #: "m2", "kg" or ""
    per_day: bool


# A number: ASCII digits and at most one decimal point (no sign, no exponent, no decimal comma); then the
# unit, read with its spaces taken out and m² as m2.
_NUMBER = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(.*?)\s*\Z", re.DOTALL)
# The drug's unit (mg, mcg or units); then per m2 or per kg, or neither; then per day, or not (units never per day).
_DOSE_UNIT = re.compile(r"(mg|mcg|units)(?:/(m2|kg))?(/day)?")


def _number_and_unit(text, what: str) -> tuple[Decimal, str]:
    match = _NUMBER.match(text) if isinstance(text, str) else None
    if not match:
        raise Unreadable(f"{what} {text!r} does not start with a number")
    value = Decimal(match.group(1))
    if not 0 < value < Decimal(1_000_000_000):
        raise Unreadable(f"{what} {text!r} is not above zero and below 1,000,000,000")
    return value, match.group(2).strip().replace(" ", "").replace("²", "2")


def dose(text) -> Dose:
    """'30 mg/m2', '30 mg/m²', '30mg/m2', '15 mcg/m2/day', '.5 mg'; not 'g', 'µg', 'mL', a comma, an exponent or a route."""
    value, written = _number_and_unit(text, "dose")
    match = _DOSE_UNIT.fullmatch(written)
    if not match or (match.group(1) == "units" and match.group(3)):
        raise Unreadable(f"dose {text!r} is not an amount in mg, mcg or units, per m2, per kg or flat, optionally /day")
    return Dose(amount=value, unit=match.group(1), per=match.group(2) or "", per_day=bool(match.group(3)))


def amount(text, unit: str) -> Decimal:
    """An amount above zero of exactly `unit`: '0.01 mL', '12.5 mcg/mL', '10 mL/h', '0.0001 m2', '22 kg'."""
    value, written = _number_and_unit(text, "amount")
    if written != unit:
        raise Unreadable(f"{text!r} is not an amount in {unit}")
    return value


def percent(text) -> Decimal:
    """'10 %' -> Decimal('0.1')."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*", text) if isinstance(text, str) else None
    if not match:
        raise Unreadable(f"{text!r} is not a percentage")
    return Decimal(match.group(1)) / 100


def days(value, length: int) -> list[int]:
    """The days of a phase `length` days long: "1-28", "8, 15, 22", "1, 8-10, 29", [8, 15],
    "every 7 days", "every 14 days from day 3". Every day inside the phase, none twice."""
    found: list[int] = []
    every = re.fullmatch(r"\s*every ([0-9]+) days?(?: from day ([0-9]+))?\s*", value) if isinstance(value, str) else None
    if every:
        step, first = int(every.group(1)), int(every.group(2) or 1)
        if step < 1:
            raise Unreadable(f"days {value!r}: every N days needs N of at least 1")
        found = list(range(first, length + 1, step))
    elif isinstance(value, str):
        for part in value.split(","):
            match = re.fullmatch(r"\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?", part)
            if not match:
                raise Unreadable(f"days {value!r} are not written as \"1-28\" or \"8, 15, 22\"")
            first, last = int(match.group(1)), int(match.group(2) or match.group(1))
            if last < first:
                raise Unreadable(f"days {value!r}: {first}-{last} runs backwards")
            found += range(first, last + 1)
    elif isinstance(value, list) and all(type(d) is int for d in value):
        found = list(value)
    else:
        raise Unreadable(f"days {value!r} are not a list or text of days")
    if not found or any(not 1 <= d <= length for d in found) or len(set(found)) != len(found):
        raise Unreadable(f"days {value!r}: empty, outside days 1 to {length}, or a day twice")
    return sorted(found)


def clock(text, infusion_start: time) -> time:
    """'08:00', or 'infusion start' (the time the pharmacist gave, 08:00 by default)."""
    if text == "infusion start":
        return infusion_start
    if not isinstance(text, str) or not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", text):
        raise Unreadable(f"{text!r} is not a time HH:MM or 'infusion start'")
    return time(int(text[:2]), int(text[3:]))


def series(text) -> tuple[int, int]:
    """'every 12 hours, 5 doses' -> (12, 5)."""
    match = re.fullmatch(r"every ([0-9]+) hours, ([0-9]+) doses", text) if isinstance(text, str) else None
    if not match:
        raise Unreadable(f"schedule {text!r} is not 'every N hours, M doses'")
    return int(match.group(1)), int(match.group(2))


def hours(text) -> Decimal:
    """A span of time: '7 days' -> 168, '4 hours' -> 4."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(days?|hours?)\s*", text) if isinstance(text, str) else None
    if not match:
        raise Unreadable(f"{text!r} is not a number of days or hours")
    return Decimal(match.group(1)) * (24 if match.group(2).startswith("day") else 1)


def weeks_after_diagnosis(text) -> int:
    match = re.fullmatch(r"([0-9]+) weeks after diagnosis", text) if isinstance(text, str) else None
    if not match:
        raise Unreadable(f"ends {text!r} is not 'N weeks after diagnosis'")
    return int(match.group(1))


def fraction(text) -> Fraction:
    if not isinstance(text, str) or not re.fullmatch(r"\s*[0-9]+\s*/\s*[0-9]+\s*|\s*[0-9]+\s*", text):
        raise Unreadable(f"factor {text!r} is not a fraction such as '2/3'")
    return Fraction(text.replace(" ", ""))


def value(table: dict, key: str):
    """The value of the tagged entry `key` of `table`: { value = ..., tag, source }."""
    return unwrap(table[key], key)


def unwrap(entry, what: str):
    """A tagged entry's value (its tag and source are the loader's to check)."""
    if not isinstance(entry, dict) or "value" not in entry:
        raise Unreadable(f"{what} is not written {{ value = ..., tag, source }}")
    return entry["value"]


# -- files ----------------------------------------------------------------------------------------


def toml(path: Path) -> dict:
    return tomllib.loads(Path(path).read_text(encoding="utf-8"))


def setting(data: dict, *keys, default=None):
    """A value nested under `keys` (a tagged entry's value where it is one), or `default` where absent:
    for protocol constants a centre's data may hold (the 8-week maintenance sheet, the 672-hour course)."""
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return data["value"] if isinstance(data, dict) and "value" in data else data
