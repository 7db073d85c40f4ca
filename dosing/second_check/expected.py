"""Every administration of a phase, worked out again from the files alone.

The order of operations is docs/reference.md §11, as the engine's: the dose basis ×
BSA or weight (or a fixed dose by age), divided into the day's doses, × the
infant fraction for the age in completed months on that day, capped, then
rounded half up to the drug's step; where the step moves the dose more than
the rounding bound (HOPA 10 %), to the step the pharmacy can measure by
volume instead (the product's concentration × the smallest volume); where
neither keeps it within the bound, the order is withheld. A day's total is the
rounded dose × the doses that day.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from . import adjustments, arithmetic, reader
from .orders import Order, fraction_bands, product, read_phase
from .reader import Body, Unreadable


@dataclass(frozen=True)
class Given:
    """One administration as the files give it."""

    drug: str
    route: str
    day: int
    unit: str
    age_months: int
    factor: Fraction
    times_per_day: int
    times: tuple[str, ...]  #: "HH:MM" of the day's doses, where a clock applies
    each: Decimal  #: one dose, rounded
    calculated: Decimal  #: one dose before rounding (after the fraction and the cap)
    capped: bool
    step: Decimal | None
    by_volume: bool
    volume: Decimal | None  #: mL of the product for one dose, where the sheet prints it
    parts: tuple = ()  #: ((fraction, dose, over), ...)
    continuous: bool = False
    adjustment: Fraction = Fraction(1)  #: what the results change (second_check.adjustments), after the fraction

    @property
    def total(self) -> Decimal:
        return self.each * self.times_per_day


@dataclass
class Expected:
    """The phase for this infant as the files give it."""

    start: date
    last_day: int
    measured: date
    kg: Decimal
    cm: Decimal
    bsa: Decimal
    window: tuple[date, date] | None
    infusion_start: time | None  #: where an order uses it
    given: dict = field(default_factory=dict)  #: (drug, route, day) -> Given
    withheld: set = field(default_factory=set)  #: (drug, route, day) of doses no step gives within the bound
    continuous: Order | None = None
    course_hours: int = 672

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.last_day - 1)


def expected(body: Body, directory: Path, phase_name: str, start: date, options: dict, patient_toml: str | None = None) -> Expected:
    protocol = reader.toml(directory / "protocol.toml")
    phase = read_phase(directory, phase_name, protocol, options.get("substitute"))
    size = arithmetic.bsa(reader.value(protocol["bsa"], "formula"), body.kg, body.cm)
    if "rounding" in protocol["bsa"]:  # the BSA printed, to the digits printed, is the one every dose uses
        size = arithmetic.half_up(size, reader.amount(reader.value(protocol["bsa"], "rounding"), "m2"))
    last_day = phase.length
    if phase.ends_weeks is not None:  # maintenance: the day before 104 weeks after diagnosis is its last
        end = body.diagnosis + timedelta(weeks=phase.ends_weeks) - timedelta(days=1)
        last_day = min(last_day, (end - start).days + 1)
    infusion = reader.clock(options["infusion_start"], None) if options.get("infusion_start") else time(8, 0)
    uses_infusion = any(o.continuous or o.first_dose_at == "infusion start" for o in phase.orders)
    found = Expected(start=start, last_day=last_day, measured=body.measured, kg=body.kg, cm=body.cm, bsa=size, course_hours=phase.course_hours,
                     window=window(options, start, phase.default_weeks), infusion_start=infusion if uses_infusion else None)
    rules = _Rules(protocol)
    # The results' changes (genotype, liver and kidney, counts), from results on or before the sheet's first day.
    first = max(start, found.window[0]) if found.window else start
    adjusted = adjustments.decide(patient_toml, directory, phase_name, first, phase.orders) if patient_toml is not None else {}
    slots_of: dict[tuple, list] = {}
    for order in phase.orders:
        slots = _slots(order, start, infusion, slots_of, phase.orders)
        slots_of.setdefault((order.drug, order.route), slots)
        by_day: dict[int, list] = {}
        for day, moment in slots:
            if day <= last_day:
                by_day.setdefault(day, []).append(moment)
        if order.continuous:
            found.continuous = order
        for day, moments in sorted(by_day.items()):
            on = start + timedelta(days=day - 1)
            if found.window is not None and not found.window[0] <= on <= found.window[1]:
                continue
            times = tuple(m.strftime("%H:%M") for m in moments if m is not None)
            change = adjusted.get((order.drug, order.route))
            if change is not None and not change.given_on(day):
                continue  # held by the counts, or off the genotype's days of the week
            given = _dose(order, day, arithmetic.months(body.birth, on), times, body.kg, size, rules,
                          change.factor if change is not None else Fraction(1))
            if given is None:
                found.withheld.add((order.drug, order.route, day))
            else:
                found.given[(order.drug, order.route, day)] = given
    return found


def window(options: dict, start: date, default_weeks: int | None) -> tuple[date, date] | None:
    """The dates the sheet covers: from `window_from` (else day 1) for `weeks` (else the phase's default,
    else to 104 weeks) where either is asked for; a window recorded in the options where they are not known."""
    if "weeks" not in options and "window_from" not in options:
        recorded = options.get("window")
        return (date.fromisoformat(recorded[0]), date.fromisoformat(recorded[1])) if recorded else None
    weeks = options.get("weeks") or default_weeks
    first = options.get("window_from")
    if not weeks and not first:
        return None
    first = date.fromisoformat(first) if isinstance(first, str) else first or start
    return first, first + timedelta(weeks=weeks or 104) - timedelta(days=1)


def _slots(order: Order, start: date, infusion: time, earlier: dict, orders) -> list[tuple[int, datetime | None]]:
    """(day, moment) of each dose; the moment is None where no clock applies."""

    def day_of(moment: datetime) -> int:
        return (moment.date() - start).days + 1

    if order.after is not None:
        anchor, hours = order.after
        if anchor not in earlier:
            raise Unreadable(f"{order.drug} {order.route} follows {anchor[0]} {anchor[1]}, not ordered before it")
        moments = sorted(m + timedelta(hours=h) for _, m in earlier[anchor] for h in hours)
        return [(day_of(m), m) for m in moments]
    if order.first_dose_at is None:
        return [(day, None) for day in order.days for _ in range(order.divided)]
    first = reader.clock(order.first_dose_at, infusion)
    if order.series is not None:
        every, doses = order.series
        t0 = datetime.combine(start + timedelta(days=order.days[0] - 1), first)
        moments = [t0 + timedelta(hours=every * i) for i in range(doses)]
    else:
        moments = [datetime.combine(start + timedelta(days=day - 1), first) for day in order.days]
    return [(day_of(m), m) for m in moments]


class _Rules:
    """What protocol.toml sets for every order: the infant fraction by age, the rounding bound, the smallest volume."""

    def __init__(self, protocol: dict):
        self.protocol = protocol
        self.bands = fraction_bands(protocol)
        rounding = protocol.get("rounding")
        self.bound = reader.percent(reader.value(rounding, "max_change")) if rounding else None
        self.smallest = reader.amount(reader.value(rounding, "smallest_volume"), "mL") if rounding else None

    def factor(self, months: int) -> Fraction:
        return next((factor for below, factor in self.bands if months < below), Fraction(1))


def _dose(order: Order, day: int, months: int, times: tuple, kg: Decimal, size: Decimal, rules: _Rules,
          adjustment: Fraction = Fraction(1)) -> Given | None:
    """One administration, or None where no step gives the dose within the bound (withheld).

    `adjustment` multiplies the dose after the infant fraction, before the cap; below 1, the dose rounds down."""
    count = len(times) or order.divided
    if order.age_table:  # fixed by age: never from BSA or weight, never reduced, never rounded
        each = [dose for since, dose in order.age_table if since <= months][-1]
        calculated, capped = _capped(each, order.cap, 1)
        return _given(order, day, months, times, Fraction(1), 1, calculated, calculated, capped, None, False, rules)
    basis, fraction_on = order.dose_on(day), order.fraction_on
    if order.small_infant is not None:
        label, kind, threshold = order.small_infant
        if (kg <= threshold) if kind == "kg" else (size < threshold):
            basis, fraction_on = label, False
    one = basis.amount * (size if basis.per == "m2" else kg if basis.per == "kg" else 1)
    if basis.per_day:
        one /= order.divided
    factor = rules.factor(months) if fraction_on else Fraction(1)
    calculated, capped = _capped(arithmetic.times(arithmetic.times(one, factor), adjustment), order.cap, count)
    within = adjustments.within_down if adjustment < 1 else arithmetic.within  # a reduced dose never rounds up
    step, by_volume = order.rounding, False
    final = within(calculated, step, rules.bound)
    drawn = product(rules.protocol, order.drug, order.route, order.unit)
    if final is None and drawn is not None and rules.smallest is not None:
        step, by_volume = drawn[0] * rules.smallest, True
        final = within(calculated, step, rules.bound)
    if final is None:
        return None
    given = _given(order, day, months, times, factor, count, final, calculated, capped, step, by_volume, rules)
    return replace(given, adjustment=adjustment) if adjustment != 1 else given


def _capped(dose: Decimal, cap, count: int) -> tuple[Decimal, bool]:
    """A '/day' cap limits the day's total, so each of `count` doses to its share."""
    if cap is None:
        return dose, False
    limit = cap.amount / count if cap.per_day else cap.amount
    return (limit, True) if dose > limit else (dose, False)


def _given(order, day, months, times, factor, count, final, calculated, capped, step, by_volume, rules) -> Given:
    drawn = product(rules.protocol, order.drug, order.route, order.unit)
    volume = final / drawn[0] if drawn is not None and (by_volume or order.route == "INTRATHECAL") else None
    parts = ()
    if order.split:  # one infusion in parts: each but the last rounded half up to the drug's step, the last the rest
        amounts = [arithmetic.half_up(arithmetic.times(final, f), order.rounding or final) for f, _ in order.split[:-1]]
        amounts.append(final - sum(amounts))
        parts = tuple((f, a, over) for (f, over), a in zip(order.split, amounts))
    return Given(drug=order.drug, route=order.route, day=day, unit=order.unit, age_months=months, factor=factor,
                 times_per_day=count, times=times, each=final, calculated=calculated, capped=capped, step=step,
                 by_volume=by_volume, volume=volume, parts=parts, continuous=order.continuous)
