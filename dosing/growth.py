"""Weight and length against the WHO Child Growth Standard (docs/reference.md, docs/safety.md).

A measurement below the 0.1st or above the 99.9th centile for the infant's
age and sex is a finding (dosing.findings; the sheet prints the centile): either a very unusual
infant or a measurement to repeat before a dose is built on it.

The WHO LMS tables come from rcpchgrowth (the Royal College of Paediatrics
and Child Health's library), read from its data files directly: its public
functions (`rcpchgrowth.global_functions.sds_for_measurement`) import SciPy,
about a second on every sheet. The z-score is the WHO LMS formula with the WHO
adjustment beyond ±3 SD, as rcpchgrowth computes it; tests compare the two
over the whole age range. Reading another library's data files could break
silently when it changes their layout, so it never does: tables that cannot
be read (missing, moved, renamed fields) make a warning on every sheet saying
the growth check was not done, and tests/test_growth.py fails.

Nothing here imports rcpchgrowth, SciPy or NumPy, so the JSON orders never load
them (tests/test_imports.py). A document that draws centile lines with
rcpchgrowth's public functions imports them inside the function that draws.
"""

import bisect
import importlib.util
import json
import math
from functools import cache
from datetime import date
from pathlib import Path

import attrs

# docs/safety.md: the centiles that make a measurement implausible enough to warn.
LOW_CENTILE = 0.1
HIGH_CENTILE = 99.9
# The WHO standard tables rcpchgrowth ships: daily from birth to 2 years (infants,
# recumbent length) and from 2 to 5 years (children).
DAYS_PER_YEAR = 365.25


class Unreadable(Exception):
    """The WHO tables could not be read: the growth check cannot be done (said on the sheet)."""


def _data_directory() -> Path:
    spec = importlib.util.find_spec("rcpchgrowth")
    if spec is None or not spec.submodule_search_locations:
        raise Unreadable("rcpchgrowth is not installed")
    return Path(spec.submodule_search_locations[0]) / "data_tables" / "who"


@cache
def _tables(name: str):
    path = _data_directory() / f"{name}.json"
    try:
        tables = json.loads(path.read_text(encoding="utf-8"))["measurement"]
        for kind in ("weight", "height"):
            for sex in ("male", "female"):
                row = tables[kind][sex][0]
                float(row["decimal_age"]), float(row["M"]), float(row["S"]), float(row["L"])
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise Unreadable(f"{path.name} from rcpchgrowth could not be read ({type(exc).__name__}: {exc})") from None
    return tables


@cache
def _ages(name: str, kind: str, sex: str) -> list[float]:
    return [row["decimal_age"] for row in _tables(name)[kind][sex]]


def _lms(kind: str, sex: str, days: int):
    name = "who_infants" if days < 731 else "who_children"
    tables = _tables(name)
    rows, ages = tables[kind][sex], _ages(name, kind, sex)
    age = days / DAYS_PER_YEAR
    if not ages[0] - 0.002 <= age <= ages[-1] + 0.002:
        return None
    # The tables are daily: the nearest row is one of the two around the age.
    right = bisect.bisect_left(ages, age)
    nearest = min((i for i in (right - 1, right) if 0 <= i < len(rows)), key=lambda i: abs(ages[i] - age))
    row = rows[nearest]
    return row["L"], row["M"], row["S"]


def z_score(kind: str, sex: str, days: int, value: float) -> float | None:
    """WHO z-score of a weight (kg) or length (cm) at an age in days; None outside 0 to 5 years."""
    lms = _lms(kind, sex, days)
    if lms is None:
        return None
    l, m, s = lms

    def at(z):  # the measurement at a z-score
        return m * (1 + l * s * z) ** (1 / l) if l else m * math.exp(s * z)

    z = ((value / m) ** l - 1) / (l * s) if l else math.log(value / m) / s
    # WHO: beyond ±3 SD the distance is measured in units of the 2-to-3 SD gap.
    if z > 3:
        z = 3 + (value - at(3)) / (at(3) - at(2))
    elif z < -3:
        z = -3 + (value - at(-3)) / (at(-2) - at(-3))
    return z


def centile(z: float) -> float:
    return 50 * (1 + math.erf(z / math.sqrt(2)))


@attrs.frozen
class Centile:
    """A weight or length beyond the 0.1st or 99.9th centile (a finding: dosing.findings)."""

    kind: str  #: "Weight" or "Length"
    value: float  #: in `unit`
    unit: str  #: "kg" or "cm"
    measured: date
    centile: float
    z: float
    sex: str  #: "female" or "male"
    age_days: int
    below: bool  #: below the 0.1st centile (else above the 99.9th)


@attrs.frozen
class NotChecked:
    """The WHO tables could not be read: the growth check was not done."""

    reason: str


def check(patient, measurement) -> list:
    """A Centile for a weight or length beyond the 0.1st or 99.9th WHO centile, or NotChecked for a check not done."""
    days = (measurement.date - patient.birth_date).days
    found = []
    for kind, label, quantity, unit in (("weight", "Weight", measurement.weight, "kg"), ("height", "Length", measurement.length, "cm")):
        try:
            z = z_score(kind, patient.sex, days, quantity.m_as(unit))
        except Unreadable as exc:
            return [NotChecked(str(exc))]
        if z is None:
            continue
        where = centile(z)
        if where < LOW_CENTILE or where > HIGH_CENTILE:
            found.append(Centile(label, quantity.m_as(unit), unit, measurement.date, where, z, patient.sex, days, where < LOW_CENTILE))
    return found
