"""The doses: every administration of a phase for one infant, day by day.

The pipeline's doses step (dosing.pipeline): from the regimen's orders, the
infant's body (dosing.body.measure) and day 1, each dose with its whole
derivation (dosing.orders.Administration). Nothing else: the bags, the
cumulative anthracyclines and the checks are the pipeline's later steps.
"""

from datetime import date, datetime, time, timedelta
from fractions import Fraction

import attrs

from dosing import adjustments
from dosing import dose as arithmetic
from dosing.errors import InputError
from dosing.orders import Administration, PhaseOrders
from dosing.patient import Patient
from dosing.regimen import Order, Phase, Protocol, Value
from dosing.units import basis_kind


def phase_orders(patient: Patient, protocol: Protocol, phase: Phase, start: date, body, *,
                 infusion_start: time | None = None, window: tuple[date, date] | None = None,
                 override: str | None = None, substitution=None) -> PhaseOrders:
    """Every administration of `phase` for `patient`, starting on `start` (day 1), for `body` (dosing.body.Body).

    `infusion_start` is the clock time on day 1 that "infusion start" means in
    the regimen (the high-dose methotrexate start, a continuous infusion's first
    bag; doses timed from it follow): 08:00 where an order needs it and none is given.
    `window` limits the orders to some dates (a maintenance sheet covers weeks).
    `substitution` is the one the pharmacist chose, already in `phase` (dosing.allergies.substitute).
    """
    measurement = body.measurement
    last_day = _last_day(patient, phase, start)
    # results: each order's adjustment (genotype, liver and kidney, counts), from results on or before the sheet's first day
    decided = adjustments.decide(patient, protocol, phase, max(start, window[0]) if window else start)
    uses_infusion = any(o.continuous or (o.timing and o.timing.first_dose_at == "infusion start") for o in phase.orders)
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
        adjustment = decided.of(order)
        for day, moments in sorted(by_day.items()):
            if adjustment is not None and (adjustment.held or not adjustment.given_on(day)):
                continue  # held by the counts, or not a day of the genotype's replacement schedule
            on = start + timedelta(days=day - 1)
            if window is not None and not window[0] <= on <= window[1]:
                continue  # outside the weeks this sheet covers: not computed at all
            times = tuple(m.time() for m in moments if m is not None)
            age = body.age_on(on)
            key = (id(order), id(order.step_on(day)), age, len(times) or order.divided)
            if key not in computed:
                try:
                    computed[key] = _administer(order, day, on, age, protocol, body.bsa, measurement.weight, times, adjustment)
                except Withheld as stop:
                    computed[key] = stop
            if isinstance(computed[key], Withheld):
                withheld.setdefault(id(order), []).append(attrs.evolve(computed[key].what, day=day, date=on))
                continue
            administrations.append(attrs.evolve(computed[key], day=day, date=on, times=times))
    administrations.sort(key=lambda a: (a.day, a.times[:1] or (time(0),), phase.orders.index(a.order)))
    if window is not None and not administrations:
        held = decided.titrated is not None and decided.titrated.held
        raise InputError("--weeks", f"no doses of {phase.title} fall between {window[0]} and {window[1]}"
                         + (" (the counts hold the oral doses)" if held else ""), "choose a window inside the phase")
    return PhaseOrders(
        patient=patient, protocol=protocol, phase=phase, start=start, measurement=measurement,
        bsa=body.bsa, bsa_formula=body.formula, administrations=tuple(administrations), last_day=last_day,
        infusion_start=clock["infusion start"] if uses_infusion else None, window=window, override=override,
        withheld=tuple(tuple(days) for days in withheld.values()), substitution=substitution,
        infusion_start_assumed=uses_infusion and infusion_start is None, adjusted=decided,
    )


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
    """docs/safety.md: a weekly drug resolving to daily is a hard stop."""
    if order.weekly and any(b - a < 7 for a, b in zip(days, days[1:])):
        raise InputError(f"{order.drug.name} {order.route}", "a weekly order falls on days less than 7 days apart", "check the regimen data")


def _administer(order: Order, day: int, on: date, age: int, protocol: Protocol, body, weight, times: tuple, adjustment=None) -> Administration:
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
    one_dose = arithmetic.apply_factor(arithmetic.per_administration(basis, body, weight, order.divided), factor)
    if adjustment is not None:  # the results' change: after the infant fraction, before the cap and rounding
        one_dose = arithmetic.apply_factor(one_dose, adjustment.factor)
        values += adjustment.values
    return _finish(
        order, day, on, age, rule=kind, basis=basis, basis_text=basis_text, size=size,
        factor=factor, factor_reason=reason, band=None, times_per_day=len(times) or order.divided, times=times,
        uncapped=one_dose, values=tuple(values),
        rounding=order.rounding.value if order.rounding else None, protocol=protocol,
        adjustment=adjustment if adjustment is not None and adjustment.changes else None,
        down=adjustment is not None and adjustment.reduced,
    )


def _finish(order, day, on, age, *, uncapped, times_per_day, rounding, values, protocol, down=False, **fields) -> Administration:
    """Cap, then round: half up, or down (`down`) for a dose the results reduced (docs/reference.md §12)."""
    calculated, capped = arithmetic.apply_cap(uncapped, order.cap.value if order.cap else None, times_per_day)
    if capped:
        values = values + (order.cap,)
    product = protocol.products.get((order.drug.name, order.route))
    by_volume = False
    if rounding is None:
        final, step = calculated, None
    elif protocol.max_rounding_change is None:
        final, step = (arithmetic.round_down if down else arithmetic.round_half_up)(calculated, rounding), rounding
    else:
        # HOPA: rounding never moves a dose more than 10 %. Where the drug's step would, the step is
        # what the pharmacy can measure: the product's concentration × the smallest volume.
        bound, fine, step = protocol.max_rounding_change.value, None, rounding
        final = arithmetic.round_within(calculated, rounding, bound, down)
        if final is None and product is not None and protocol.smallest_volume is not None:  # worked out only when needed
            fine = step = (product.concentration.value * protocol.smallest_volume.value).to(calculated.units)
            final = arithmetic.round_within(calculated, fine, bound, down)
        if final is None:
            raise Withheld(Withheld.What(order=order, day=day, date=on, calculated=calculated, step=rounding, fine=fine,
                                         product=product, bound=protocol.max_rounding_change))
        by_volume = step is not rounding
        values = values + (protocol.max_rounding_change,)
        if by_volume:
            values = values + (product.concentration, protocol.smallest_volume)
    if capped and final > calculated:
        # docs/safety.md: a dose above its cap is a hard stop. Rounding up a capped dose can pass the
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
