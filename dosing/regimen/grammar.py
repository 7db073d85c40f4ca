"""The written grammar of regimen data: doses, days and schedules (regimens/SCHEMA.md).

One reader for each kind of string a regimen file holds. Each function takes
the value as written and returns a plain result, or raises ValueError whose
message says what is wrong and how to write it; the loader adds the file,
line and field. No pint here: amounts are exact decimals, so the grammar can
be read, tested and described on its own (regimens/grammar-examples.toml is
the contract every reader of the data must meet).
"""

import re
from decimal import Decimal
from fractions import Fraction

import attrs

# A dose's unit as written -> (the drug's unit, per: "m2" | "kg" | "", per_day).
# Written forms follow ISMP: mcg, never µg (misread as mg on a handwritten copy);
# units, never U or IU; m2 or m² for a square metre of body surface.
DOSE_UNITS = {
    "mg": ("mg", "", False), "mcg": ("mcg", "", False), "units": ("units", "", False),
    "mg/day": ("mg", "", True), "mcg/day": ("mcg", "", True),
    "mg/m2": ("mg", "m2", False), "mcg/m2": ("mcg", "m2", False), "units/m2": ("units", "m2", False),
    "mg/m2/day": ("mg", "m2", True), "mcg/m2/day": ("mcg", "m2", True),
    "mg/kg": ("mg", "kg", False), "mcg/kg": ("mcg", "kg", False), "units/kg": ("units", "kg", False),
    "mg/kg/day": ("mg", "kg", True), "mcg/kg/day": ("mcg", "kg", True),
}
# Why a unit near a dose unit is refused, so the message names the fix.
_REFUSED_UNITS = {
    "µg": "the micro sign is misread as mg on a handwritten copy: write mcg",
    "μg": "the micro sign is misread as mg on a handwritten copy: write mcg",
    "ug": "write mcg",
    "g": "grams: write the dose in mg",
    "U": "U is misread as 0 or 4: write units",
    "IU": "write units",
    "ml": "a volume is not a dose",
    "mL": "a volume is not a dose",
}
# The largest number a regimen amount may hold: anything larger is a slip.
AMOUNT_BELOW = Decimal(1_000_000_000)

# A number as the data writes it: ASCII digits and a decimal point; no sign, no exponent.
_NUMBER = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(.*?)\s*\Z", re.DOTALL)
_EVERY = re.compile(r"\s*every (\d+) days?(?: from day (\d+))?\s*")
_RANGE = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?")
_PERCENT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%\s*")
# Only some phases' data write these: compiled on first use (re keeps them), not when the grammar is imported.
_SERIES = r"every (\d+) hours, (\d+) doses"
_CLOCK = r"([01]\d|2[0-3]):[0-5]\d|infusion start"
_WEEKS_AFTER_DIAGNOSIS = r"(\d+) weeks after diagnosis"
_SPAN = r"\s*(\d+(?:\.\d+)?)\s*(hours|days)\s*"


@attrs.frozen
class Dose:
    """A dose as written: "15 mcg/m2/day" is 15, mcg, per m2, per day."""

    amount: Decimal
    unit: str  #: the drug's amount: mg, mcg or units
    per: str  #: "m2" per square metre of body surface, "kg" per kilogram, "" a fixed amount
    per_day: bool  #: the amount is the whole day's, divided among that day's doses

    @property
    def kind(self) -> str:
        return {"m2": "per_m2", "kg": "per_kg", "": "fixed"}[self.per]

    @property
    def written(self) -> str:
        """The unit in the data's own spelling: "mg/m2/day"."""
        return self.unit + (f"/{self.per}" if self.per else "") + ("/day" if self.per_day else "")


def number(text) -> tuple[Decimal, str]:
    """The amount at the start of `text`, above zero and below 1,000,000,000, and the rest after it."""
    if not isinstance(text, str):
        raise ValueError("must be text, a number and its unit")
    if text.strip().startswith("-"):
        raise ValueError("must be above zero")
    match = _NUMBER.match(text)
    if not match:
        raise ValueError("does not start with a number")
    digits, rest = match.groups()
    if re.match(r"[eE][+-]?[0-9]", rest):
        raise ValueError("has an exponent: write the number out (1000, not 1e3); it must be above zero and below 1,000,000,000")
    if re.match(r",[0-9]", rest):
        raise ValueError("has a decimal comma: write a decimal point (30.5, not 30,5)")
    amount = Decimal(digits)
    if not 0 < amount < AMOUNT_BELOW:
        raise ValueError("must be above zero and below 1,000,000,000")
    return amount, rest.strip()


def dose(text) -> Dose:
    """A dose: a number, then a unit from DOSE_UNITS ("30 mg/m2", "15 mcg/m²/day", ".5 mg")."""
    amount, rest = number(text)
    written = rest.replace(" ", "").replace("²", "2")
    if written not in DOSE_UNITS:
        first = written.split("/")[0]
        why = _REFUSED_UNITS.get(first)
        if why is None and written.count("/") >= 1 and "kg" in written.split("/")[1:] and "m2" in written.split("/")[1:]:
            why = "a dose is per kg or per m2, not both"
        if why is None and written.endswith(("/week", "/hour", "/h")):
            why = "a rate is per day only"
        if not rest:
            why = "the unit is missing"
        raise ValueError(f"unit {rest!r} is not allowed here{'; ' + why if why else ''}; write one of: {', '.join(DOSE_UNITS)}")
    return Dose(amount, *DOSE_UNITS[written])


def amount(text, units) -> tuple[Decimal, str]:
    """A number and one of `units` exactly ("0.4 mg/mL", "22 kg", "0.0001 m2"); m² is read as m2."""
    value, rest = number(text)
    written = rest.replace(" ", "").replace("²", "2")
    if written not in units:
        raise ValueError(f"unit {rest!r} is not allowed here; write one of: {', '.join(units)}")
    return value, written


def days(value, length: int) -> tuple[int, ...]:
    """The days of a phase `length` days long: "1-28", "8, 15, 22", [8, 15, 22], "every 7 days from day 3"."""
    found: list[int] = []
    every = _EVERY.fullmatch(value) if isinstance(value, str) else None
    if every:
        step, first = int(every.group(1)), int(every.group(2) or 1)
        if step < 1:
            raise ValueError("every N days needs N of at least 1")
        found = list(range(first, length + 1, step))
    elif isinstance(value, str):
        for part in value.split(","):
            match = _RANGE.fullmatch(part)
            if not match:
                raise ValueError(f"days {value!r}: write them as \"1-28\" or \"8, 15, 22\"")
            first, last = int(match.group(1)), int(match.group(2) or match.group(1))
            if last < first:
                raise ValueError(f"days {value!r}: range {first}-{last} runs backwards")
            found.extend(range(first, last + 1))
    elif isinstance(value, list) and all(isinstance(d, int) and not isinstance(d, bool) for d in value):
        found = list(value)
    else:
        raise ValueError(f"days {value!r}: write them as \"1-28\", \"8, 15, 22\", [8, 15, 22] or \"every 7 days\"")
    if not found:
        raise ValueError("days is empty")
    outside = [d for d in found if not 1 <= d <= length]
    if outside:
        raise ValueError(f"days {outside} are outside the phase (days 1 to {length})")
    if len(set(found)) != len(found):
        raise ValueError(f"days {value!r} lists a day twice")
    return tuple(sorted(found))


def series(text) -> tuple[int, int]:
    """A series of doses on a clock: "every 12 hours, 5 doses" -> (12, 5)."""
    match = re.fullmatch(_SERIES, text) if isinstance(text, str) else None
    if not match:
        raise ValueError('schedule reads "every 12 hours, 5 doses", with first_dose_at = "08:00"')
    every, doses = int(match.group(1)), int(match.group(2))
    if not 1 <= every <= 24 or not 1 <= doses <= 50:
        raise ValueError("schedule: every 1 to 24 hours, 1 to 50 doses")
    return every, doses


def clock(text) -> str:
    """The time of a first dose: a ward time "08:00", or "infusion start" (given when the sheet is made)."""
    if not isinstance(text, str) or not re.fullmatch(_CLOCK, text):
        raise ValueError('first_dose_at must be a time "HH:MM" or "infusion start"')
    return text


def hours_after(value) -> tuple[str, str, tuple[float, ...]]:
    """A dose timed from another order: { drug, route, hours = [42, 48, 54] } -> (drug, route, hours)."""
    if not isinstance(value, dict) or set(value) != {"drug", "route", "hours"} or not isinstance(value["hours"], list) or not value["hours"] or not all(
            isinstance(h, (int, float)) and not isinstance(h, bool) and 0 <= h <= 240 for h in value["hours"]):
        raise ValueError('after is { drug = "methotrexate", route = "IV", hours = [42, 48, 54] }, hours from 0 to 240')
    return value["drug"], value["route"], tuple(value["hours"])


def split(parts) -> tuple[tuple[Fraction, str], ...]:
    """Parts of one infusion: [{ fraction = "1/10", over = "30 minutes" }, ...], fractions adding up to 1."""
    try:
        fractions = [Fraction(part["fraction"]) for part in parts]
        overs = [part["over"] for part in parts]
        ok = all(set(part) == {"fraction", "over"} and isinstance(part["over"], str) for part in parts)
    except (TypeError, KeyError, ValueError, ZeroDivisionError):
        ok = False
    if not ok or sum(fractions) != 1 or any(f <= 0 for f in fractions):
        raise ValueError('split is [{ fraction = "1/10", over = "30 minutes" }, ...], fractions adding up to 1')
    return tuple(zip(fractions, overs))


def divided(value) -> int:
    """Times a day a daily dose is given: a whole number 1 to 6."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 6:
        raise ValueError("divided must be a whole number of doses a day, 1 to 6")
    return value


def percent(text, low: float, high: float) -> Fraction:
    """A percentage "10 %" above `low` and at most `high`, as a fraction (1/10)."""
    match = _PERCENT.fullmatch(text) if isinstance(text, str) else None
    if not match or not low < float(match.group(1)) <= high:
        raise ValueError(f'a percentage above {low:g} and at most {high:g}, e.g. "10 %"')
    return Fraction(match.group(1)) / 100


def weeks_after_diagnosis(text) -> int:
    """A phase end: "104 weeks after diagnosis" -> 104."""
    match = re.fullmatch(_WEEKS_AFTER_DIAGNOSIS, text) if isinstance(text, str) else None
    if not match:
        raise ValueError('ends must read "N weeks after diagnosis"')
    return int(match.group(1))


def span(text) -> float:
    """A length of time in hours: "4 hours" -> 4, "7 days" -> 168."""
    match = re.fullmatch(_SPAN, text) if isinstance(text, str) else None
    if not match or not float(match.group(1)) > 0:
        raise ValueError('a length of time such as "4 hours" or "7 days"')
    return float(match.group(1)) * (24 if match.group(2) == "days" else 1)


def whole(value, low: int, high: int, what: str) -> int:
    """A whole number from `low` to `high` (TOML true is not 1)."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}")
    return value
