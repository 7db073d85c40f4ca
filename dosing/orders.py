"""The computed orders: each administration with its whole derivation, and a phase's orders for one infant.

An Administration keeps its working (basis, size, age, factor, cap, rounding,
provenance) so the sheet can print it and a checker can re-do it. PhaseOrders
gathers what each step of dosing.pipeline adds: the doses (dosing.schedule),
the bags and cumulative anthracyclines, and the findings of the checks.
"""

from datetime import date, time, timedelta
from fractions import Fraction
from functools import lru_cache

import attrs

from dosing.findings import Finding
from dosing.patient import Measurement, Patient
from dosing.regimen import AgeBand, Order, Phase, Protocol, Value, weakest
from dosing.units import Q, unit


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
    adjustment: object = None  #: dosing.adjustments.Adjustment the results made (after the fraction, before cap and rounding), where one

    @property
    def volume(self):
        """mL of the product to give, where the sheet prints it (INTRATHECAL, or measured by volume)."""
        if self.product is None:
            return None
        return (self.dose / self.product.concentration.value).to(unit("mL"))

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
    withheld: tuple = ()  #: per order not made, its days as (schedule.Withheld.What, ...): no step gives the dose within the bound
    substitution: object = None  #: regimen.Substitution the pharmacist chose, where one was
    infusion_start_assumed: bool = False  #: an order is timed from the infusion start and none was given: 08:00 is assumed
    adjusted: object = None  #: dosing.adjustments.Decided: what the results did to each order, for the findings
    methotrexate: object = None  #: dosing.rescue.Rescue, for a phase with high-dose methotrexate and its rescue
    findings: tuple = ()  #: dosing.findings.Finding: what the checks found, once for the whole phase (worded by dosing.documents.wording)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.last_day - 1)

    def day_date(self, day: int) -> date:
        return self.start + timedelta(days=day - 1)


def _rounding_change(calculated, dose) -> float:
    return _change(calculated.magnitude, calculated.units, dose.magnitude, dose.units)


@lru_cache(maxsize=4096)
def _change(calculated: float, calculated_units, dose: float, dose_units) -> float:
    """Days that share a dose share its rounding: worked out once per distinct pair."""
    exact = Q(calculated, str(calculated_units)).m_as(dose_units)
    return abs(dose - exact) / exact


def with_notice(orders: PhaseOrders, notice) -> PhaseOrders:
    """A finding about the whole phase, first on every document and in the JSON.

    `notice` is a Finding (dosing.dates.check gives them) or a sentence (the weight change since the
    last sheet, a resumption's interruption): a sentence is kept as a finding that says just it.
    """
    finding = notice if isinstance(notice, Finding) else Finding.said(notice)
    return attrs.evolve(orders, findings=(finding,) + orders.findings)
