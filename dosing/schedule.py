"""A phase's orders for one infant: every administration, day by day.

Each Administration keeps its whole derivation (basis, size, age, factor,
cap, rounding, provenance) so the sheet can print the working and a checker
can re-do it.
"""

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from fractions import Fraction

import attrs

from dosing import dose as arithmetic
from dosing.body import age_in_months, bsa
from dosing.errors import InputError
from dosing.patient import Measurement, Patient
from dosing.anthracyclines import cumulative
from dosing.checks import warnings
from dosing.allergies import check, compact, matches, unmatched
from dosing.regimen import AgeBand, Order, Phase, Protocol, Value, substitute as substitute_in, substitutions, weakest
from dosing.units import Q, basis_kind


@attrs.frozen
class Administration:
    day: int
    date: date
    age_months: int
    order: Order
    rule: str  #: "BSA", "weight", "fixed", "age band" or "label weight rule"
    basis: object  #: the dose basis applied, e.g. 1.5 mg/m²
    basis_text: str  #: as the regimen file writes it, e.g. "1.5 mg/m2"
    size: object | None  #: the BSA or weight the basis was multiplied by
    factor: Fraction  #: infant fraction applied (1 when none)
    factor_reason: str  #: "age 3 months" or why no fraction applies
    band: AgeBand | None
    times_per_day: int
    times: tuple  #: clock times of the day's doses, where the protocol sets a clock
    uncapped: object  #: one dose after the fraction, before cap and rounding
    calculated: object  #: one dose after the cap, before rounding
    capped: bool
    dose: object  #: one dose as given, rounded
    total: object  #: the day's total: dose × times_per_day
    rounded: bool  #: the rounding step changed the dose
    values: tuple[Value, ...]  #: the protocol values this dose rests on
    parts: tuple = ()  #: ((fraction, amount, over), ...) where one infusion is given in parts
    step: object = None  #: the step the dose was rounded to (None: not rounded)
    by_volume: bool = False  #: the drug's step would move the dose over the bound: measured by volume instead
    bound: Value | None = None  #: the largest change rounding may make (HOPA 10 %), where it was applied
    product: object = None  #: regimen.Product the dose is drawn up from, where the volume is printed

    @property
    def volume(self):
        """mL of the product to give, where the sheet prints it (INTRATHECAL, or measured by volume)."""
        if self.product is None:
            return None
        return (self.dose / self.product.concentration.value).to("mL")

    @property
    def drug(self) -> str:
        return self.order.drug.name

    @property
    def route(self) -> str:
        return self.order.route

    @property
    def provenance(self) -> str:
        return weakest(v.tag for v in self.values)

    @property
    def daily_calculated(self):
        return self.calculated * self.times_per_day

    @property
    def rounding_change(self) -> float:
        """How far rounding moved the dose, as a fraction of the calculated dose."""
        return _rounding_change(self.calculated, self.dose)


@attrs.frozen
class PhaseOrders:
    patient: Patient
    protocol: Protocol
    phase: Phase
    start: date
    measurement: Measurement
    bsa: object
    bsa_formula: str
    administrations: tuple[Administration, ...]
    last_day: int  #: the phase's last day for this patient (maintenance ends 104 weeks after diagnosis)
    infusion_start: time | None = None  #: the clock time "infusion start" means, where an order uses it
    window: tuple[date, date] | None = None  #: the dates this sheet covers, when not the whole phase
    override: str | None = None  #: a clinician's reason for ordering off the pathway
    bags: tuple = ()  #: continuous infusions, bag by bag (dosing.bags.Bag)
    product: object = None  #: the product settings the bags are made from
    anthracyclines: object = None  #: dosing.anthracyclines.Cumulative, where the phase gives one
    notices: tuple[str, ...] = ()  #: warnings about the whole phase, printed on every document
    withheld: tuple = ()  #: per order not made, its days as (Withheld.What, ...): no step gives the dose within the bound
    substitution: object = None  #: regimen.Substitution the pharmacist chose, where one was
    warnings: tuple[str, ...] = ()  #: every warning: the notices and the per-order checks

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.last_day - 1)

    def day_date(self, day: int) -> date:
        return self.start + timedelta(days=day - 1)



def phase_orders(patient: Patient, protocol: Protocol, phase: Phase, start: date, *,
                 infusion_start: time | None = None, window: tuple[date, date] | None = None,
                 override: str | None = None, bag_hours: int = 24, substitute: str | None = None) -> PhaseOrders:
    """Compute every administration of `phase` for `patient`, starting on `start` (day 1).

    `infusion_start` is the clock time on day 1 that "infusion start" means in
    the regimen (the high-dose methotrexate start; doses timed from it follow).
    `window` limits the orders to some dates (a maintenance sheet covers weeks).
    A continuous infusion is also planned bag by bag (`bag_hours`), its first bag
    going up at `infusion_start` on day 1. `substitute` names a substitution the pharmacist
    chose (substitutions.toml), given in place of the drug it replaces.
    """
    substitution = None
    if substitute is not None:
        phase, substitution = substitute_in(protocol, phase, substitute)
        first = start + timedelta(days=min(d for o in substitution.orders for d in o.days) - 1)
        if age_in_months(patient.birth_date, first) < substitution.from_age_months.value:
            raise InputError("--substitute", f"{substitution.orders[0].drug.print_name} is licensed from "
                             f"{substitution.from_age_months.value} month(s) of age ({substitution.from_age_months.source}); "
                             f"the infant is younger on {first}", "the prescriber must choose another product outside the tool")
    _allergies_allow(patient, protocol, phase)
    if start < patient.diagnosis_date:
        raise InputError("--start", f"{start} is before the diagnosis date {patient.diagnosis_date}", "give the date of day 1 of the phase")
    measurement = patient.measurement_on(start)
    formula = protocol.bsa_formula.value
    body = bsa(measurement.weight, measurement.length, formula)
    if protocol.bsa_rounding is not None:
        # The BSA every dose uses is the one printed, to the digits printed (issue 12).
        body = arithmetic.round_half_up(body, protocol.bsa_rounding.value)
    last_day = _last_day(patient, phase, start)
    continuous = [o for o in phase.orders if o.continuous]
    uses_infusion = bool(continuous) or any(o.timing and o.timing.first_dose_at == "infusion start" for o in phase.orders)
    clock = {"infusion start": infusion_start or time(8, 0)}
    slots_by_order: dict[int, list] = {}
    administrations = []
    # Most days repeat a dose: what decides it is the order, the dose step, the age in
    # months and the number of doses that day. Each distinct dose is computed once.
    computed: dict[tuple, Administration | Withheld] = {}
    withheld: dict[int, list] = {}
    for order in phase.orders:
        slots = _slots(order, start, clock, slots_by_order, phase.orders)
        slots_by_order[id(order)] = slots
        by_day: dict[int, list] = {}
        for day, moment in slots:
            if day <= last_day:
                by_day.setdefault(day, []).append(moment)
        _weekly_stays_weekly(order, sorted(by_day))
        for day, moments in sorted(by_day.items()):
            on = start + timedelta(days=day - 1)
            if window is not None and not window[0] <= on <= window[1]:
                continue  # outside the weeks this sheet covers: not computed at all
            times = tuple(m.time() for m in moments if m is not None)
            age = age_in_months(patient.birth_date, on)
            key = (id(order), id(order.step_on(day)), age, len(times) or order.divided)
            if key not in computed:
                try:
                    computed[key] = _administer(order, day, on, age, protocol, body, measurement.weight, times)
                except Withheld as stop:
                    computed[key] = stop
            if isinstance(computed[key], Withheld):
                withheld.setdefault(id(order), []).append(attrs.evolve(computed[key].what, day=day, date=on))
                continue
            administrations.append(attrs.evolve(computed[key], day=day, date=on, times=times))
    administrations.sort(key=lambda a: (a.day, a.times[:1] or (time(0),), phase.orders.index(a.order)))
    if window is not None:
        if not administrations:
            raise InputError("--weeks", f"no doses of {phase.title} fall between {window[0]} and {window[1]}", "choose a window inside the phase")
    bag_plan, product = (), None
    if continuous:
        from dosing import bags

        (order,) = continuous
        product = bags.load_product(protocol.directory.parent, order.drug.name)
        first = next(a for a in administrations if a.order is order)
        bag_plan = tuple(bags.plan(first.total / Q(1, "day"), datetime.combine(start, clock["infusion start"]),
                                   bag_hours, measurement.weight, product, hours=24 * len(order.days)))
    orders = PhaseOrders(
        patient=patient, protocol=protocol, phase=phase, start=start, measurement=measurement,
        bsa=body, bsa_formula=formula, administrations=tuple(administrations), last_day=last_day,
        infusion_start=clock["infusion start"] if uses_infusion else None, window=window, override=override,
        bags=bag_plan, product=product, withheld=tuple(tuple(days) for days in withheld.values()), substitution=substitution,
    )
    orders = attrs.evolve(orders, anthracyclines=cumulative(orders))
    for days in reversed(orders.withheld):
        orders = with_notice(orders, _withheld_text(days))
    for entry in reversed(unmatched(patient.allergies, protocol.drugs.values())):
        orders = with_notice(orders, f"Recorded allergy '{entry}' names no drug this tool knows, so it was not checked "
                                     "against these orders: check every order against it by hand.")
    if substitution is not None:
        orders = with_notice(orders, _substitution_text(orders, substitution))
    if uses_infusion and infusion_start is None:
        orders = with_notice(orders, "The infusion start time was not given: 08:00 is assumed, and every time that follows "
                                     "from it (rescue, mesna, bag changes) moves with the real start. Give --infusion-start HH:MM.")
    orders = attrs.evolve(orders, warnings=orders.notices + tuple(warnings(orders)))
    return orders


def _allergies_allow(patient: Patient, protocol: Protocol, phase: Phase) -> None:
    """A recorded allergy that names a drug this phase orders is a hard stop (issue 12)."""
    found = check(patient.allergies, {o.drug.name: o.drug for o in phase.orders}.values())
    if not found:
        return
    match = found[0]
    offered = [name for name, entry in substitutions(protocol).items() if entry[1].get("replaces") == match.drug.name]
    fix = "do not give it; if the allergy entry is wrong, correct the patient file"
    if offered:
        fix += f"; or, if the prescriber agrees, give {' or '.join(offered)} instead: --substitute {offered[0]}"
    name = match.drug.print_name
    how = "" if compact(match.term) in (compact(match.drug.name), compact(name)) else f" ('{match.term}' is {name})"
    raise InputError("patient.allergies", f"the recorded allergy '{match.allergy}' names {name}{how}, which {phase.title} orders", fix)


def _substitution_text(orders: PhaseOrders, substitution) -> str:
    from dosing.formatting import day_ranges, written

    replaced = orders.protocol.drugs[substitution.replaces].print_name
    first = substitution.orders[0]
    days = sorted({d for o in substitution.orders for d in o.days})
    answers = [a for a in orders.patient.allergies if matches(a, orders.protocol.drugs[substitution.replaces])]
    reason = f"the recorded allergy {', '.join(repr(a) for a in answers)}" if answers else substitution.answers
    return (f"SUBSTITUTION chosen by the pharmacist: {first.drug.print_name} {written(first.steps[0].text)} {first.route} "
            f"on days {day_ranges(days)} replaces {replaced}, for {reason} ({substitution.answers}); "
            f"dosed per its label ({first.steps[0].value.source.split(',')[0]}).")


def _rounding_change(calculated, dose) -> float:
    return _change(calculated.magnitude, calculated.units, dose.magnitude, dose.units)


@lru_cache(maxsize=4096)
def _change(calculated: float, calculated_units, dose: float, dose_units) -> float:
    """Days that share a dose share its rounding: worked out once per distinct pair."""
    exact = Q(calculated, str(calculated_units)).m_as(dose_units)
    return abs(dose - exact) / exact


def with_notice(orders: PhaseOrders, notice: str) -> PhaseOrders:
    """A warning about the whole phase, first on every document and in the JSON."""
    return attrs.evolve(orders, notices=(notice,) + orders.notices, warnings=(notice,) + orders.warnings)


def _last_day(patient: Patient, phase: Phase, start: date) -> int:
    last = phase.length_days.value
    end = phase.last_date(patient.diagnosis_date)
    if end is not None:
        last = min(last, (end - start).days + 1)
        if last < 1:
            raise InputError("--start", f"{phase.title} ends {phase.ends.value} ({end}), before {start}", "check the start date")
    return last


def _slots(order: Order, start: date, clock: dict, earlier: dict, orders) -> list[tuple[int, datetime | None]]:
    """(day, moment) for each dose of the order; moment is None where no clock applies."""
    timing = order.timing

    def day_of(moment: datetime) -> int:
        return (moment.date() - start).days + 1

    if timing is None:
        return [(day, None) for day in order.days for _ in range(order.divided)]
    if timing.after is not None:
        anchor = next(o for o in orders if (o.drug.name, o.route) == timing.after)
        moments = [m + timedelta(hours=h) for _, m in earlier[id(anchor)] for h in timing.hours]
        return [(day_of(m), m) for m in sorted(moments)]
    first = clock.get(timing.first_dose_at) or time.fromisoformat(timing.first_dose_at)
    if timing.every_hours is not None:
        t0 = datetime.combine(start + timedelta(days=order.days[0] - 1), first)
        moments = [t0 + timedelta(hours=timing.every_hours * i) for i in range(timing.doses)]
    else:
        moments = [datetime.combine(start + timedelta(days=day - 1), first) for day in order.days]
    return [(day_of(m), m) for m in moments]


def _weekly_stays_weekly(order: Order, days: list[int]) -> None:
    """safety.md: a weekly drug resolving to daily is a hard stop."""
    if order.weekly and any(b - a < 7 for a, b in zip(days, days[1:])):
        raise InputError(f"{order.drug.name} {order.route}", "a weekly order falls on days less than 7 days apart", "check the regimen data")


def _administer(order: Order, day: int, on: date, age: int, protocol: Protocol, body, weight, times: tuple) -> Administration:
    if order.age_bands:
        band = order.band_at(age)
        return _finish(
            order, day, on, age, rule="age band", basis=band.dose, basis_text=band.text, size=None,
            factor=Fraction(1), factor_reason="fixed dose by age, never reduced", band=band,
            times_per_day=1, times=times, uncapped=band.dose, values=(order.age_value, order.days_value), rounding=None,
            protocol=protocol,
        )
    step = order.step_on(day)
    if step is None:
        raise InputError(f"{order.drug.name} {order.route} day {day}", "the regimen data gives no dose for this day", "check the order's days in the regimen data")
    basis, basis_text, values = step.basis, step.text, [step.value, order.days_value]
    rule = {"per_m2": "BSA", "per_kg": "weight", "fixed": "fixed"}
    label = order.small_infant
    fraction_on = order.infant_fraction is not None and order.infant_fraction.value
    if label is not None and label.applies(weight, body):
        basis, basis_text, fraction_on = label.basis, label.text, False
        values = [label.value, order.days_value]
        kind = "label weight rule"
    else:
        kind = rule[basis_kind(basis)]
    if fraction_on:
        factor = protocol.factor_at(age)
        reason = f"age {age} month{'s' if age != 1 else ''}"
        if factor != 1:
            values += [order.infant_fraction, protocol.infant_fraction]
    else:
        factor = Fraction(1)
        reason = "no infant fraction for this order"
    size = body if kind == "BSA" else weight if kind in ("weight", "label weight rule") else None
    one_dose = arithmetic.per_administration(basis, body, weight, order.divided)
    return _finish(
        order, day, on, age, rule=kind, basis=basis, basis_text=basis_text, size=size,
        factor=factor, factor_reason=reason, band=None, times_per_day=len(times) or order.divided, times=times,
        uncapped=arithmetic.apply_factor(one_dose, factor), values=tuple(values),
        rounding=order.rounding.value if order.rounding else None, protocol=protocol,
    )


def _finish(order, day, on, age, *, uncapped, times_per_day, rounding, values, protocol, **fields) -> Administration:
    calculated, capped = arithmetic.apply_cap(uncapped, order.cap.value if order.cap else None, times_per_day)
    if capped:
        values = values + (order.cap,)
    product = protocol.products.get((order.drug.name, order.route))
    by_volume = False
    if rounding is None:
        final, step = calculated, None
    elif protocol.max_rounding_change is None:
        final, step = arithmetic.round_half_up(calculated, rounding), rounding
    else:
        # HOPA: rounding never moves a dose more than 10 %. Where the drug's step would, the step is
        # what the pharmacy can measure: the product's concentration × the smallest volume.
        bound, fine, step = protocol.max_rounding_change.value, None, rounding
        final = arithmetic.round_within(calculated, rounding, bound)
        if final is None and product is not None and protocol.smallest_volume is not None:  # worked out only when needed
            fine = step = (product.concentration.value * protocol.smallest_volume.value).to(calculated.units)
            final = arithmetic.round_within(calculated, fine, bound)
        if final is None:
            raise Withheld(Withheld.What(order=order, day=day, date=on, calculated=calculated, step=rounding, fine=fine,
                                         product=product, bound=protocol.max_rounding_change))
        by_volume = step is not rounding
        values = values + (protocol.max_rounding_change,)
        if by_volume:
            values = values + (product.concentration, protocol.smallest_volume)
    if capped and final > calculated:
        # safety.md: a dose above its cap is a hard stop. Rounding up a capped dose can pass the
        # cap when the cap is not a whole number of rounding steps.
        raise InputError(
            f"{order.drug.name} day {day}",
            f"the capped dose {calculated:~P} rounds up to {final:~P}, above the cap",
            "set a cap that is a whole number of rounding steps in the regimen data",
        )
    if not final.magnitude > 0:
        raise InputError(
            f"{order.drug.name} day {day}",
            f"the dose rounds to zero ({calculated:.4g~P} calculated)",
            "a dose this small cannot be measured; the prescriber must decide the dose outside the tool",
        )
    parts = ()
    if order.split is not None:
        fractions = [fraction for fraction, _ in order.split.value]
        amounts = arithmetic.split(final, fractions, rounding if rounding is not None else final)
        parts = tuple((fraction, amount, over) for (fraction, over), amount in zip(order.split.value, amounts))
        values = values + (order.split,)
    return Administration(
        day=day, date=on, age_months=age, order=order, times_per_day=times_per_day, parts=parts,
        uncapped=uncapped, calculated=calculated, capped=capped, dose=final,
        total=arithmetic.times(final, times_per_day),
        rounded=rounding is not None and abs(final.m_as(final.units) - calculated.m_as(final.units)) > 1e-12,
        values=values, step=step, by_volume=by_volume, bound=protocol.max_rounding_change if step is not None else None,
        product=product if by_volume or order.route == "INTRATHECAL" else None, **fields,
    )


class Withheld(Exception):
    """A dose no step can give within the rounding bound: that order is not made (issue 12), the rest are."""

    @attrs.frozen
    class What:
        order: Order
        day: int
        date: date
        calculated: object  #: one dose, after fraction and cap
        step: object  #: the drug's rounding step
        fine: object | None  #: the step by volume, where the product is known
        product: object | None
        bound: Value

    def __init__(self, what: "Withheld.What"):
        self.what = what
        super().__init__(what)


def _withheld_text(days) -> str:
    """The notice for an order not made, over the days it falls on."""
    from dosing.formatting import day_ranges, percent, significant

    first = days[0]
    unit = first.order.drug.unit
    doses = [significant(amount) for amount in sorted({w.calculated.m_as(unit) for w in days})]
    smallest = f"{significant(first.step.m_as(unit))} {unit}"
    if first.fine is not None:
        smallest = f"{significant(first.fine.m_as(unit))} {unit}, the smallest measurable volume of {first.product.form}"
    return (f"NOT ORDERED: {first.order.drug.print_name} {first.order.route} on day{'s' if len(days) > 1 else ''} "
            f"{day_ranges(w.day for w in days)}: the calculated dose ({' / '.join(doses)} {unit}) cannot be given within "
            f"{percent(first.bound.value)} of itself (smallest step {smallest}). The prescriber must order this dose "
            "outside the tool; every other order on this sheet stands.")

