"""Continuous infusions bag by bag: when each bag goes up, and how it is made.

Blinatumomab runs for one course without a break (the phase's course_hours,
672 in ALL-Baby-2021), in the bags its product file lists (24, 48, 72 or 96
hours; the 168-hour bag has a preservative, so only from 22 kg). For each
bag this module works out the dose it delivers, the volume infused and the
pump rate, and the preparation: the reconstituted drug, saline and
stabiliser that go in, and the overfill. Product settings and the rules
after an interruption come from regimens/products/<drug>.toml; the arithmetic
is here, on pint quantities.

A bag holds more than it infuses (the overfill primes the line), so the drug
put in is the dose to deliver × total volume ÷ infused volume. With saline S,
stabiliser I, infused volume V, concentration C and dose D, the drug volume
v solves v = D × (S + I + v) ÷ (V × C), that is v = D × (S + I) ÷ (V × C − D).
"""

import math
from datetime import datetime, timedelta

import attrs

from dosing.dose import decimal, round_half_up
from dosing.errors import InputError
from dosing.regimen import Source, Value, known_keys, tagged
from dosing.regimen.grammar import span
from dosing.regimen.quantities import parse_product
from dosing.units import Q


@attrs.frozen
class BagSettings:
    hours: int
    rate: object  #: mL/h
    saline: object  #: mL, the diluent the bag is made up with (bag size; sets the overfill)
    stabiliser: object  #: mL of IV Solution Stabilizer, added before the drug
    diluent: str
    preservative: bool
    values: tuple[Value, ...]


@attrs.frozen
class Product:
    name: str
    vial: object  #: mcg per vial
    water: object  #: mL of sterile water to reconstitute a vial
    concentration: object  #: mcg/mL once reconstituted
    stabiliser_vial: object
    syringe_step: object  #: mL: the reconstituted volume is measured to this step
    filter: str
    preservative_free_below: object  #: kg
    bags: dict  #: hours -> BagSettings
    values: tuple[Value, ...]
    path: object
    new_course_after: Value | None = None  #: value: timedelta; a longer interruption starts a new course
    premedicate_after: Value | None = None  #: value: timedelta; a restart after this long needs premedication again

    def allows(self, settings: BagSettings, weight) -> bool:
        """The label's rule: under `preservative_free_below`, preservative-free bags only."""
        return not (settings.preservative and weight < self.preservative_free_below)


@attrs.frozen
class Bag:
    number: int
    start: datetime
    hours: float
    daily: object  #: mcg/day
    dose: object  #: mcg the bag delivers over its hours (before any overfill)
    rate: object  #: mL/h
    volume: object  #: mL infused over its hours
    settings: BagSettings
    drug_volume: object  #: mL of reconstituted drug put in the bag
    exact_drug_volume: object  #: mL the arithmetic gives, before drug_volume measures it to the syringe step
    total_volume: object  #: mL in the bag: saline + stabiliser + drug
    overfill: object  #: mL in the bag beyond what is infused
    delivered: object  #: mcg the infused volume actually carries, after the syringe step
    vials: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)


def load_product(directory, drug: str) -> Product:
    source = Source(directory / "products" / f"{drug}.toml")
    data = source.data
    known_keys(source, data, ("product", "bags", "interruption"), None, "the file")
    head_line = source.header_line("[product]")
    head = data.get("product", {})
    names = ("vial", "water", "concentration", "stabiliser_vial", "syringe_step", "filter", "preservative_free_below")
    known_keys(source, head, ("name",) + names, head_line, "[product]")
    values = {key: tagged(source, head, key, head_line, key.replace("_", " ")) for key in names}
    amounts = {key: _amount(source, values[key], head_line, key) for key in names if key != "filter"}
    bags = {}
    for hours, table in data.get("bags", {}).items():
        line = source.header_line(f"[bags.{hours}]")
        if not hours.isdigit() or not isinstance(table, dict):
            raise source.error(line, "bags are tables named by their hours, such as [bags.24]")
        known_keys(source, table, ("rate", "saline", "stabiliser", "diluent", "preservative"), line, f"[bags.{hours}]")
        given = {key: tagged(source, table, key, line, f"{hours}-hour bag {key}") for key in ("rate", "saline", "stabiliser")}
        if not isinstance(table.get("preservative"), bool) or not isinstance(table.get("diluent"), str):
            raise source.error(line, "a bag needs diluent (text) and preservative (true or false)")
        bags[int(hours)] = BagSettings(
            hours=int(hours), rate=_amount(source, given["rate"], line, "rate"),
            saline=_amount(source, given["saline"], line, "saline"), stabiliser=_amount(source, given["stabiliser"], line, "stabiliser"),
            diluent=table["diluent"], preservative=table["preservative"], values=tuple(given.values()),
        )
    checks = {"vial": "[mass]", "water": "[volume]", "concentration": "[mass] / [volume]", "stabiliser_vial": "[volume]",
              "syringe_step": "[volume]", "preservative_free_below": "[mass]"}
    for key, dimension in checks.items():
        if not amounts[key].check(dimension):
            raise source.error(source.key_line(key, head_line), f"{key} must be in units of {dimension}")
    for settings in bags.values():
        if not (settings.rate.check("[volume] / [time]") and settings.saline.check("[volume]") and settings.stabiliser.check("[volume]")):
            raise source.error(source.header_line(f"[bags.{settings.hours}]"), "rate in mL/h, saline and stabiliser in mL")
    if not bags:
        raise source.error(None, "no [bags.N] tables")
    return Product(name=head.get("name", drug), filter=values["filter"].value, bags=bags, values=tuple(values.values()),
                   path=source.path, **{k: v for k, v in amounts.items()}, **_interruption(source, data))


def _interruption(source, data: dict) -> dict:
    """[interruption]: how long a stop may last before a new course, and before premedication again."""
    line = source.header_line("[interruption]")
    table = data.get("interruption")
    if not isinstance(table, dict):
        raise source.error(line, "[interruption] is missing: new_course_after and premedicate_after (the product label's rules)")
    known_keys(source, table, ("new_course_after", "premedicate_after"), line, "[interruption]")
    found = {}
    for key in ("new_course_after", "premedicate_after"):
        value = tagged(source, table, key, line, key.replace("_", " "))
        try:
            found[key] = attrs.evolve(value, value=timedelta(hours=span(value.value)))
        except ValueError as exc:
            raise source.error(source.key_line(key, line), f"{key}: {exc}") from None
    return found


def _amount(source, value: Value, line, key: str):
    try:
        return parse_product(str(value.value))
    except ValueError as exc:
        raise source.error(source.key_line(key, line), f"{key}: {exc}") from None


def check_bag_hours(product: Product, bag_hours: int, weight) -> BagSettings:
    """The settings for the chosen bag length, refusing what the label forbids for this infant."""
    if bag_hours not in product.bags:
        raise InputError("--bag-hours", f"there is no {bag_hours}-hour bag for {product.name}", f"choose one of {', '.join(map(str, sorted(product.bags)))}")
    settings = product.bags[bag_hours]
    if not product.allows(settings, weight):
        raise InputError(
            "--bag-hours",
            f"a {bag_hours}-hour bag is made with {settings.diluent}; infants under "
            f"{product.preservative_free_below.m_as('kg'):g} kg may have preservative-free bags only (docs/reference.md §9, "
            f"product label), and this infant weighs {weight.m_as('kg'):g} kg",
            f"choose a preservative-free bag: {', '.join(str(h) for h, s in sorted(product.bags.items()) if not s.preservative)} hours",
        )
    return settings


def plan(daily, start: datetime, bag_hours: int, weight, product: Product, hours: float, first_number: int = 1) -> list[Bag]:
    """Bags from `start` until `hours` of infusion are covered; the last may be shorter."""
    chosen = check_bag_hours(product, bag_hours, weight)
    bags, given, made = [], 0.0, {}
    while given < hours - 1e-9:
        length = min(bag_hours, hours - given)
        settings = chosen if length == bag_hours else _settings_for(product, length, weight)
        if (length, settings.hours) not in made:  # bags of one length are made alike: work one out, copy it
            made[(length, settings.hours)] = make_bag(0, start, length, daily, settings, product)
        bags.append(attrs.evolve(made[(length, settings.hours)], number=first_number + len(bags), start=start + timedelta(hours=given)))
        given += length
    return bags


def _settings_for(product: Product, hours: float, weight) -> BagSettings:
    """A shorter last bag is made as the shortest allowed bag that lasts long enough, and stopped on time."""
    for length, settings in sorted(product.bags.items()):
        if length >= hours and product.allows(settings, weight):
            return settings
    raise InputError("--bag-hours", f"no bag of {product.name} can run {hours:g} hours", "")


def make_bag(number: int, start: datetime, hours: float, daily, settings: BagSettings, product: Product) -> Bag:
    dose = (daily * Q(hours, "hour")).to("mcg")
    volume = (settings.rate * Q(hours, "hour")).to("mL")
    base = settings.saline + settings.stabiliser
    capacity = (volume * product.concentration).to("mcg")
    if dose >= capacity:
        raise InputError("blinatumomab bag", f"{dose:~P} cannot be carried in {volume:~P}", "check the product settings")
    exact = (dose * base / (capacity - dose)).to("mL")
    drug_volume = round_half_up(exact, product.syringe_step)
    if not drug_volume.magnitude > 0:
        raise InputError("blinatumomab bag", f"the drug volume {exact:.4f~P} rounds to nothing at the {product.syringe_step:~P} step", "the prescriber and pharmacist must prepare this dose by hand")
    total = (base + drug_volume).to("mL")
    if total <= volume:
        raise InputError("blinatumomab bag", f"a {settings.hours}-hour bag made up to {total:.1f~P} cannot infuse {volume:.1f~P}",
                         f"correct the bag settings in {product.path.name}: the bag must hold more than it infuses")
    delivered = (drug_volume * product.concentration * volume / total).to("mcg")
    per_vial = (product.vial / product.concentration).to("mL")
    return Bag(
        number=number, start=start, hours=hours, daily=daily, dose=dose, rate=settings.rate.to("mL/hour"),
        volume=volume, settings=settings, drug_volume=drug_volume, exact_drug_volume=exact, total_volume=total,
        overfill=(total - volume).to("mL"), delivered=delivered,
        vials=math.ceil(decimal(drug_volume, "mL") / decimal(per_vial, "mL")),
    )


@attrs.frozen
class Resumption:
    infused_hours: float
    interruption: timedelta
    course_hours: float
    new_course_after: timedelta  #: the product's rule the interruption was held against
    premedicate_after: timedelta
    new_course: bool
    premedication: bool
    remaining_hours: float
    bags: tuple[Bag, ...]


def resume(daily, course_start: datetime, stopped: datetime, restart: datetime, bag_hours: int, weight, product: Product,
           course_hours: float) -> Resumption:
    """The bags after an interruption (docs/reference.md §9, product label).

    Up to the product's new_course_after (7 days): continue to `course_hours` of
    infusion in total. Longer: a new course. A restart after premedicate_after
    (4 hours) or more needs the dexamethasone premedication again.
    """
    if not course_start <= stopped <= restart:
        raise InputError("--stopped", f"the course started {course_start:%Y-%m-%d %H:%M}, stopped {stopped:%Y-%m-%d %H:%M} and restarts {restart:%Y-%m-%d %H:%M}: these must be in order", "check the dates and times")
    infused = (stopped - course_start).total_seconds() / 3600
    if infused >= course_hours:
        raise InputError("--stopped", f"{infused:g} hours had been given: the {course_hours:g}-hour course was already complete", "check the stop time")
    gap = restart - stopped
    new_course = gap > product.new_course_after.value
    remaining = course_hours if new_course else course_hours - infused
    bags = plan(daily, restart, bag_hours, weight, product, hours=remaining)
    return Resumption(infused_hours=infused, interruption=gap, course_hours=course_hours,
                      new_course_after=product.new_course_after.value, premedicate_after=product.premedicate_after.value,
                      new_course=new_course, premedication=gap >= product.premedicate_after.value, remaining_hours=remaining,
                      bags=tuple(bags))
