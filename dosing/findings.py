"""What the checks find in a phase's orders: structured findings, never sentences.

A finding never stops a sheet: hard stops are raised where the fault is found
(the patient file, the regimen data, the dose engine). `find` runs each check
once over the whole phase (dosing.pipeline); each finding names the
administrations it concerns, so a document keeps only those about its own
(an INTRATHECAL band change only on the INTRATHECAL sheet). The English is
dosing.documents.wording's.

A NOTICE is about the whole phase and printed first on every document (dates,
assumptions, what was not ordered); a WARNING is a check on the orders.
"""

from datetime import date, time
from fractions import Fraction

import attrs

from dosing import bounds, fluid, growth
from dosing.allergies import matches, unmatched
from dosing.body import age_in_months
from dosing.rescue import findings as rescue_findings

NOTICE, WARNING = "notice", "warning"


@attrs.frozen
class Finding:
    code: str  #: what was found, e.g. "fraction change" (dosing.documents.wording words each code)
    facts: object = None  #: the values found, typed (one of the facts classes below, growth's or fluid's)
    severity: str = WARNING  #: NOTICE or WARNING
    subject: str | None = None  #: the drug and route it concerns, as printed ("vinCRIStine IV"), where one
    administrations: tuple = ()  #: the administrations it concerns; empty: every document

    @classmethod
    def said(cls, text: str) -> "Finding":
        """A notice a caller gives as a sentence (a test, or a centre's own addition): printed as given."""
        return cls("said", Said(text), NOTICE)

    def concerns(self, ids: set[int]) -> bool:
        """Whether a document of the administrations with these ids prints it."""
        return not self.administrations or any(id(a) in ids for a in self.administrations)


# -- the facts of each kind of finding ---------------------------------------------------


@attrs.frozen
class Said:
    text: str


@attrs.frozen
class WeightChange:
    """The weight on this sheet against the last sheet issued for the patient (docs/safety.md; protocol.toml [warnings])."""

    before_kg: float
    now_kg: float
    last_phase: str
    last_issued: str  #: the date the last sheet was issued, YYYY-MM-DD

    @property
    def change(self) -> float:
        return (self.now_kg - self.before_kg) / self.before_kg


@attrs.frozen
class Resumption:
    """A blinatumomab infusion restarted after an interruption (dosing.bags.resume's result)."""

    result: object  #: dosing.bags.Resumed: hours infused, the interruption, the course and premedication rules
    premedication: object  #: the IV dexamethasone administration given before the restart, where one is due


@attrs.frozen
class StaleMeasurement:
    measured: date
    days_before: int  #: days from the measurement to day 1
    limit_days: int  #: bounds.STALE_MEASUREMENT_DAYS


@attrs.frozen
class FractionChange:
    """The infant fraction of an order changes inside the phase (docs/safety.md)."""

    day: int
    date: date
    age_months: int
    before: Fraction  #: 1 is the full dose
    after: Fraction


@attrs.frozen
class BandChange:
    """An INTRATHECAL order's age band changes inside the phase (docs/safety.md)."""

    day: int
    date: date
    age_months: int
    before: object  #: regimen.AgeBand
    after: object
    bands: tuple  #: the order's bands, to say which one


@attrs.frozen
class Rounding:
    """Rounding moves each of these days' doses by more than the protocol's warning limit."""

    days: tuple[int, ...]
    calculated: float  #: one dose, in `unit`
    given: float
    unit: object  #: pint unit of the dose
    change: float  #: fraction of the calculated dose
    by_volume: bool  #: rounded to the measurable volume, not the product step


@attrs.frozen
class AnthracyclineLimit:
    total: float  #: after this phase, in `unit`
    unit: str  #: "mg/kg" (the label limit for young children) or "mg/m²" (doxorubicin equivalents)
    limit: object
    below_months: int | None  #: the age the mg/kg limit applies under


@attrs.frozen
class UnmatchedAllergy:
    entry: str  #: as recorded in the patient file


@attrs.frozen
class Substitution:
    substitution: object  #: regimen.Substitution
    replaced: object  #: regimen.Drug it replaces
    allergies: tuple[str, ...]  #: the recorded allergies to the replaced drug


@attrs.frozen
class InfusionStartAssumed:
    assumed: time


@attrs.frozen
class GenotypeUnknown:
    """A thiopurine is ordered and the patient file gives no TPMT or NUDT15 phenotype (CPIC, docs/reference.md §12)."""

    genes: tuple[str, ...]  #: "TPMT", "NUDT15": those unknown
    drugs: tuple[str, ...]  #: printed names of the thiopurines ordered


# -- the checks ----------------------------------------------------------------------------


def find(orders) -> tuple[Finding, ...]:
    """Every finding about `orders`: the notices first, then the checks, in the order the sheets print them."""
    return (*_notices(orders), *_methotrexate(orders), *_stale_measurement(orders), *growth_findings(orders.patient, orders.measurement),
            *_adjusted(orders), *_changes(orders.administrations), *_rounding(orders.administrations, orders.protocol.rounding_warning.value),
            *_anthracyclines(orders), *_unverified(orders), *_fluid(orders))


def _notices(orders) -> list[Finding]:
    found = []
    if orders.infusion_start_assumed:
        found.append(Finding("infusion start assumed", InfusionStartAssumed(orders.infusion_start), NOTICE))
    if orders.substitution is not None:
        replaced = orders.protocol.drugs[orders.substitution.replaces]
        found.append(Finding("substitution", Substitution(orders.substitution, replaced,
                                                          tuple(a for a in orders.patient.allergies if matches(a, replaced))), NOTICE))
    found += [Finding("unmatched allergy", UnmatchedAllergy(entry), NOTICE)
              for entry in unmatched(orders.patient.allergies, orders.protocol.drugs.values())]
    found += [Finding("withheld", days, NOTICE, f"{days[0].order.drug.print_name} {days[0].order.route}") for days in orders.withheld]
    return found


def _methotrexate(orders) -> list[Finding]:
    """High-dose methotrexate (dosing.rescue.findings): an interacting medicine, a glucarpidase criterion met, an escalated rescue."""
    return [Finding(code, facts, subject=subject, administrations=given) for code, facts, subject, given in rescue_findings(orders)]


def _stale_measurement(orders) -> list[Finding]:
    age = (orders.start - orders.measurement.date).days
    if age > bounds.STALE_MEASUREMENT_DAYS:
        return [Finding("stale measurement", StaleMeasurement(orders.measurement.date, age, bounds.STALE_MEASUREMENT_DAYS))]
    return []


def growth_findings(patient, measurement) -> list[Finding]:
    """A weight or length beyond the 0.1st or 99.9th WHO centile, or the growth check not done (dosing.growth)."""
    return [Finding("growth", facts) for facts in growth.check(patient, measurement)]


def _adjusted(orders) -> list[Finding]:
    """What the results did (dosing.adjustments): genotype unknown, counts missing or holding, a rule still to set."""
    decided = orders.adjusted
    if decided is None:
        return []
    found = []
    if decided.unknown_genes:
        given = tuple(a for a in orders.administrations if a.drug in decided.thiopurines)
        names = tuple(orders.protocol.drugs[d].print_name for d in decided.thiopurines)
        found.append(Finding("genotype unknown", GenotypeUnknown(decided.unknown_genes, names), administrations=given))
    titrated = decided.titrated
    if titrated is not None and titrated.held:
        found.append(Finding("titration hold", decided, NOTICE))
    elif titrated is not None and (titrated.wbc is None or titrated.anc is None):
        given = tuple(a for a in orders.administrations if f"{a.order.drug.print_name} {a.route}" in titrated.subjects)
        found.append(Finding("titration counts missing", decided, administrations=given))
    for unset in decided.unset:
        given = tuple(a for a in orders.administrations if f"{a.order.drug.print_name} {a.route}" == unset.subject)
        found.append(Finding("organ rule not set", unset, subject=unset.subject, administrations=given))
    return found


def _by_order(administrations):
    """The administrations of each order, in day order."""
    grouped = {}
    for administration in administrations:
        grouped.setdefault(id(administration.order), []).append(administration)
    return grouped.values()


def _changes(administrations) -> list[Finding]:
    """An infant fraction or INTRATHECAL band that changes inside the phase (docs/safety.md)."""
    found = []
    for series in _by_order(administrations):
        for before, after in zip(series, series[1:]):
            subject, when = f"{after.order.drug.print_name} {after.route}", (after.day, after.date, after.age_months)
            if after.band is not None and after.band != before.band:
                facts = BandChange(*when, before.band, after.band, tuple(after.order.age_bands))
                found.append(Finding("band change", facts, subject=subject, administrations=(before, after)))
            elif after.factor != before.factor:
                facts = FractionChange(*when, before.factor, after.factor)
                found.append(Finding("fraction change", facts, subject=subject, administrations=(before, after)))
    return found


def _rounding(administrations, above) -> list[Finding]:
    """One finding for each run of days whose rounded dose is more than `above` (5 %, protocol.toml [warnings]) off."""
    found = []
    for series in _by_order(administrations):
        flagged = {}
        for a in series:
            if a.rounding_change > float(above):
                flagged.setdefault((a.calculated.m_as(a.dose.units), a.dose.m_as(a.dose.units)), []).append(a)
        for (calculated, given), runs in flagged.items():
            a = runs[0]
            facts = Rounding(tuple(r.day for r in runs), calculated, given, a.dose.units, a.rounding_change, a.by_volume)
            found.append(Finding("rounding", facts, subject=f"{a.order.drug.print_name} {a.route}", administrations=tuple(runs)))
    return found


def _anthracyclines(orders) -> list[Finding]:
    """Cumulative anthracycline after this phase past the label's or the protocol's limit (docs/reference.md §10)."""
    totals, rules = orders.anthracyclines, orders.protocol.anthracyclines
    if totals is None:
        return []
    given = tuple(a for a in orders.administrations if a.drug in rules.doxorubicin_equivalent.value)
    found = []
    young, limit = rules.young_limit.value, rules.limit.value
    if age_in_months(orders.patient.birth_date, orders.end) < rules.young_below_months and totals.after.mg_per_kg > young:
        facts = AnthracyclineLimit(totals.after.mg_per_kg, "mg/kg", young, rules.young_below_months)
        found.append(Finding("anthracycline limit", facts, administrations=given))
    if totals.after.doxorubicin_equivalent > limit:
        facts = AnthracyclineLimit(totals.after.doxorubicin_equivalent, "mg/m²", limit, None)
        found.append(Finding("anthracycline limit", facts, administrations=given))
    return found


def _unverified(orders) -> list[Finding]:
    found = [] if orders.protocol.verified else [Finding("unverified")]
    draft = tuple(a for a in orders.administrations if any(value.tag == "?" for value in a.values))
    if draft:
        found.append(Finding("draft", administrations=draft))  # the DRAFT line only where a placeholder is used
    return found


def _fluid(orders) -> list[Finding]:
    """The infusions' fluid above the protocol's share of maintenance fluid (dosing.fluid), on documents with IV doses."""
    excess = fluid.excess(orders)
    if excess is None:
        return []
    return [Finding("fluid", excess, administrations=tuple(a for a in orders.administrations if a.route == "IV"))]


def weight_change(orders, before_kg: float, last_phase: str, last_issued: str) -> Finding | None:
    """The weight changed by the protocol's fraction or more since the last sheet issued (dosing.issuing reads the log)."""
    now = orders.measurement.weight.m_as("kg")
    if abs(now - before_kg) / before_kg >= float(orders.protocol.weight_change.value):
        return Finding("weight change", WeightChange(before_kg, now, last_phase, last_issued), NOTICE)
    return None


def resumption(result, premedication) -> Finding:
    """What a restart after an interruption means for the course (dosing.resumption)."""
    return Finding("resumption", Resumption(result, premedication), NOTICE)

