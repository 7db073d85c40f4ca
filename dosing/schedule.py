"""A phase's orders for one infant: every administration, day by day.

Each Administration keeps its whole derivation (basis, size, age, factor,
cap, rounding, provenance) so the sheet can print the working and a checker
can re-do it.
"""

from datetime import date, timedelta
from fractions import Fraction

import attrs

from dosing import dose as arithmetic
from dosing.body import age_in_months, bsa
from dosing.errors import InputError
from dosing.patient import Measurement, Patient
from dosing.checks import warnings
from dosing.regimen import AgeBand, Order, Phase, Protocol, Value, weakest
from dosing.units import basis_kind


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
    uncapped: object  #: one dose after the fraction, before cap and rounding
    calculated: object  #: one dose after the cap, before rounding
    capped: bool
    dose: object  #: one dose as given, rounded
    total: object  #: the day's total: dose × times_per_day
    rounded: bool  #: the rounding step changed the dose
    values: tuple[Value, ...]  #: the protocol values this dose rests on

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
        calculated = self.calculated.m_as(self.dose.units)
        return abs(self.dose.m_as(self.dose.units) - calculated) / calculated


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
    warnings: tuple[str, ...] = ()

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.phase.length_days.value - 1)

    def day_date(self, day: int) -> date:
        return self.start + timedelta(days=day - 1)

    @property
    def values(self) -> tuple[Value, ...]:
        """Every protocol value the orders rest on, once each."""
        seen = {self.protocol.bsa_formula: None}
        for administration in self.administrations:
            for value in administration.values:
                seen.setdefault(value, None)
            if administration.order.rounding and administration.rule != "age band":
                seen.setdefault(administration.order.rounding, None)
        return tuple(seen)


def phase_orders(patient: Patient, protocol: Protocol, phase: Phase, start: date) -> PhaseOrders:
    """Compute every administration of `phase` for `patient`, starting on `start` (day 1)."""
    if start < patient.diagnosis_date:
        raise InputError("--start", f"{start} is before the diagnosis date {patient.diagnosis_date}", "give the date of day 1 of the phase")
    measurement = patient.measurement_on(start)
    formula = protocol.bsa_formula.value
    body = bsa(measurement.weight, measurement.length, formula)
    administrations = []
    for order in phase.orders:
        for day in order.days:
            on = start + timedelta(days=day - 1)
            administrations.append(_administer(order, day, on, age_in_months(patient.birth_date, on), protocol, body, measurement.weight))
    administrations.sort(key=lambda a: (a.day, phase.orders.index(a.order)))
    orders = PhaseOrders(
        patient=patient, protocol=protocol, phase=phase, start=start, measurement=measurement,
        bsa=body, bsa_formula=formula, administrations=tuple(administrations),
    )
    return attrs.evolve(orders, warnings=tuple(warnings(orders)))


def _administer(order: Order, day: int, on: date, age: int, protocol: Protocol, body, weight) -> Administration:
    if order.age_bands:
        band = order.band_at(age)
        return _finish(
            order, day, on, age, rule="age band", basis=band.dose, basis_text=band.text, size=None,
            factor=Fraction(1), factor_reason="fixed dose by age, never reduced", band=band,
            times_per_day=1, uncapped=band.dose, values=(order.age_value, order.days_value), rounding=None,
        )
    step = order.step_on(day)
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
        factor=factor, factor_reason=reason, band=None, times_per_day=order.divided,
        uncapped=arithmetic.apply_factor(one_dose, factor), values=tuple(values),
        rounding=order.rounding.value if order.rounding else None,
    )


def _finish(order, day, on, age, *, uncapped, times_per_day, rounding, values, **fields) -> Administration:
    calculated, capped = arithmetic.apply_cap(uncapped, order.cap.value if order.cap else None, times_per_day)
    if capped:
        values = values + (order.cap,)
    final = arithmetic.round_half_up(calculated, rounding) if rounding is not None else calculated
    if not final.magnitude > 0:
        raise InputError(
            f"{order.drug.name} day {day}",
            f"the dose rounds to zero ({calculated:.4g~P} calculated)",
            "a dose this small cannot be measured; the prescriber must decide the dose outside the tool",
        )
    return Administration(
        day=day, date=on, age_months=age, order=order, times_per_day=times_per_day,
        uncapped=uncapped, calculated=calculated, capped=capped, dose=final,
        total=arithmetic.times(final, times_per_day),
        rounded=rounding is not None and abs(final.m_as(final.units) - calculated.m_as(final.units)) > 1e-12,
        values=values, **fields,
    )

