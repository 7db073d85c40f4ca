"""The patient model: what the rest of the program knows of an infant.

Data flow: patient file → read.py (text → dict) → build.py (dict → these
classes) → body size and age → doses → ... Every quantity carries its pint
unit; the classes are frozen, so nothing downstream changes what was read.
"""

from datetime import date

import attrs

from dosing import bounds
from dosing.errors import InputError
from dosing.results import Genotype, LabResult


def _within(unit: str, low: float, high: float, example: str):
    """An attrs validator refusing a measurement no child under three can have."""

    def check(instance, attribute, value):
        if not low <= value.m_as(unit) <= high:
            raise InputError(
                attribute.name,
                f"{value:~P} is outside {low:g}-{high:g} {unit}, which no child under three can measure",
                f'check the number and its unit, e.g. {attribute.name} = "{example}"',
            )

    return check


@attrs.frozen
class Measurement:
    date: date
    weight: object = attrs.field(validator=_within("kg", bounds.WEIGHT_MIN_KG, bounds.WEIGHT_MAX_KG, "6.2 kg"))  #: pint mass
    length: object = attrs.field(validator=_within("cm", bounds.LENGTH_MIN_CM, bounds.LENGTH_MAX_CM, "63 cm"))  #: pint length, recumbent


@attrs.frozen
class MRDResult:
    timepoint: str  #: "day36" or "after_HR1"
    method: str  #: "flow" or "PCR"
    value: object | None = None  #: pint percent, or None when the result is "negative"

    @property
    def negative(self) -> bool:
        return self.value is None or self.value.m_as("percent") == 0


@attrs.frozen
class Remission:
    timepoint: str
    in_remission: bool


@attrs.frozen
class AnthracyclineDose:
    """An anthracycline dose already given, for the cumulative totals (docs/reference.md §10)."""

    date: date
    drug: str  #: "daunorubicin" or "doxorubicin"
    amount: object  #: pint mass


@attrs.frozen
class Patient:
    id: str
    name: str
    sex: str
    birth_date: date
    diagnosis_date: date
    allergies: tuple[str, ...]  #: empty means "no known allergies", stated in the file
    kmt2a: str
    cns: str
    measurements: tuple[Measurement, ...]
    mrd: tuple[MRDResult, ...] = ()
    remission: tuple[Remission, ...] = ()
    anthracyclines: tuple[AnthracyclineDose, ...] = ()
    labs: tuple[LabResult, ...] = ()  #: [[labs]] in file order (dosing/results.py reads them)
    genotype: Genotype = Genotype()  #: [genotype]; absent means both unknown
    medications: tuple[str, ...] = ()  #: [[medications]] names, in file order

    def measurement_on(self, day: date) -> Measurement:
        """The newest measurement on or before `day` (the one a phase uses)."""
        usable = [m for m in self.measurements if m.date <= day]
        if not usable:
            first = min(m.date for m in self.measurements)
            raise InputError(
                "measurements",
                f"no weight and length measured on or before {day} (the first is {first})",
                "add a [[measurements]] entry dated on or before the phase start",
            )
        return max(usable, key=lambda m: m.date)
