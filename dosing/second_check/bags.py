"""A continuous infusion's bags, worked out again from regimens/products/<drug>.toml.

Each bag delivers the day's dose for its hours, infused at the bag's pump rate.
A bag holds more than it infuses (the overfill primes the line), so the drug
put in is the dose × the bag's total volume ÷ the volume infused: with saline
S, stabiliser I, infused volume V, concentration C and dose D, the drug volume
v = D × (S + I) ÷ (V × C − D), rounded half up to the syringe step. Vials:
enough to draw v up (each holds vial ÷ C mL once reconstituted).

The course runs 24 hours for each day of the order, bag after bag from the
infusion start on day 1; after an interruption (docs/reference.md §9) the bags run
from the restart to the end of the course, or for a whole new course where the
interruption lasted more than 7 days.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

from . import arithmetic, reader
from .reader import Unreadable

# docs/reference.md §9: an interruption longer than this starts a new course (for a product file from before [interruption]).
NEW_COURSE_AFTER_HOURS = 7 * 24


@dataclass(frozen=True)
class Bag:
    number: int
    start: datetime
    hours: Decimal
    dose_mcg: Decimal
    volume_ml: Decimal
    rate_ml_per_h: Decimal
    preservative: bool
    vials: int
    reconstituted_ml: Decimal
    diluent_ml: Decimal
    stabiliser_ml: Decimal
    bag_volume_ml: Decimal
    overfill_ml: Decimal
    delivers_mcg: Decimal


@dataclass(frozen=True)
class _Settings:
    hours: int
    rate: Decimal
    saline: Decimal
    stabiliser: Decimal
    preservative: bool


def expected_bags(products: Path, drug: str, daily: Decimal, course_start: datetime, days: int, bag_hours: int,
                  kg: Decimal, course_hours: int, stopped: datetime | None = None, restart: datetime | None = None) -> list[Bag]:
    """The bags of `days` days of infusion from `course_start`; or, given `stopped` and `restart`, those after the
    interruption, to the end of the course (`course_hours`) or for a new one."""
    data = reader.toml(products / f"{drug}.toml")
    head = data["product"]

    def read(key: str, unit: str) -> Decimal:
        return reader.amount(reader.value(head, key), unit)

    concentration, vial, step = read("concentration", "mcg/mL"), read("vial", "mcg"), read("syringe_step", "mL")
    free_below = read("preservative_free_below", "kg")
    bags = {}
    for hours, table in data["bags"].items():
        preservative = table["preservative"]
        if not isinstance(preservative, bool):
            raise Unreadable(f"bags.{hours}: preservative is not true or false")
        bags[int(hours)] = _Settings(hours=int(hours), rate=reader.amount(reader.value(table, "rate"), "mL/h"),
                                     saline=reader.amount(reader.value(table, "saline"), "mL"),
                                     stabiliser=reader.amount(reader.value(table, "stabiliser"), "mL"), preservative=preservative)
    allowed = {h: s for h, s in bags.items() if not (s.preservative and kg < free_below)}  # the label: preservative-free under 22 kg
    if bag_hours not in allowed:
        raise Unreadable(f"no {bag_hours}-hour bag of {drug} the label allows for {kg} kg")
    hours, begin = Decimal(24 * days), course_start
    if stopped is not None:
        course = Decimal(course_hours)
        infused = Decimal(int((stopped - course_start).total_seconds())) / 3600
        longest = reader.setting(data, "interruption", "new_course_after")
        new_course = restart - stopped > timedelta(hours=float(reader.hours(longest) if longest else NEW_COURSE_AFTER_HOURS))
        hours, begin = (course if new_course else course - infused), restart
    found, given = [], Decimal(0)
    while given < hours:
        length = min(Decimal(bag_hours), hours - given)
        settings = allowed[bag_hours] if length == bag_hours else next(
            (s for h, s in sorted(allowed.items()) if h >= length), None)  # a short last bag: the shortest that lasts, stopped on time
        if settings is None:
            raise Unreadable(f"no bag of {drug} can run {length} hours")
        found.append(_bag(len(found) + 1, begin + timedelta(hours=float(given)), length, daily, settings, concentration, vial, step))
        given += length
    return found


def _bag(number, start, hours: Decimal, daily: Decimal, settings: _Settings, concentration, vial, step) -> Bag:
    dose = daily * hours / 24
    volume = settings.rate * hours
    base = settings.saline + settings.stabiliser
    drug_volume = arithmetic.half_up(dose * base / (volume * concentration - dose), step)
    total = base + drug_volume
    return Bag(
        number=number, start=start, hours=hours, dose_mcg=dose, volume_ml=volume, rate_ml_per_h=settings.rate,
        preservative=settings.preservative, vials=int((drug_volume / (vial / concentration)).to_integral_value(ROUND_CEILING)),
        reconstituted_ml=drug_volume, diluent_ml=settings.saline, stabiliser_ml=settings.stabiliser, bag_volume_ml=total,
        overfill_ml=total - volume, delivers_mcg=drug_volume * concentration * volume / total,
    )
