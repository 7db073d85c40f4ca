"""The English of each finding (dosing.findings): what a sheet prints in its WARNINGS box.

The checks run once, in the pipeline, and give findings with typed facts;
the documents word them here. A document prints the notices first
(`notices`), then the warnings about its own administrations
(`for_administrations`); the JSON orders list every finding (`sentences`).
"""

from dosing.criteria import NO_RESULT
from dosing.dates import far_text
from dosing.documents.adjusted import ADJUSTED
from dosing.documents import methotrexate
from dosing.findings import NOTICE, WARNING
from dosing.formatting import amount, band_text, day_ranges, number, percent, significant, written
from dosing.regimen import TAG_MEANING
from dosing.regimen.criteria import criterion_text, measured_text
from dosing.units import Q


def sentences(findings) -> list[str]:
    """Each finding's sentence (a resumption's several), in the order given."""
    said = []
    for finding in findings:
        words = _WORDS[finding.code](finding)
        said += [words] if isinstance(words, str) else words
    return said


def notices(orders) -> list[str]:
    """The findings about the whole phase, printed first on every document."""
    return sentences(f for f in orders.findings if f.severity == NOTICE)


def for_administrations(orders, administrations=None) -> list[str]:
    """The warnings a document of these administrations prints (None: every warning, as the JSON lists them).

    A finding about some administrations (a band change, rounding, anthracyclines, fluid on IV doses, a
    placeholder value) is printed where one of them is; a finding about the whole phase everywhere.
    """
    ids = {id(a) for a in (orders.administrations if administrations is None else administrations)}
    return sentences(f for f in orders.findings if f.severity == WARNING and f.concerns(ids))


# -- notices ---------------------------------------------------------------------------------


def _dates_override(finding) -> str:
    facts = finding.facts
    what = "; and ".join(facts.overridden) if facts.overridden else "no date check needed it"
    return f"DATES OVERRIDE: {what}. Ordered anyway for this reason: {facts.reason}"


def _far_from_today(finding) -> str:
    away = far_text(finding.facts)
    return (f"{away[0].upper()}{away[1:]}: check the date. Sheets are made for a phase about to start "
            f"(within {finding.facts.within} days of today).")


def _infusion_start_assumed(finding) -> str:
    return (f"The infusion start time was not given: {finding.facts.assumed:%H:%M} is assumed, and every time that follows "
            "from it (rescue, mesna, bag changes) moves with the real start. Give --infusion-start HH:MM.")


def _substitution(finding) -> str:
    substitution, first = finding.facts.substitution, finding.facts.substitution.orders[0]
    days = sorted({d for o in substitution.orders for d in o.days})
    answers = finding.facts.allergies
    reason = f"the recorded allergy {', '.join(repr(a) for a in answers)}" if answers else substitution.answers
    return (f"SUBSTITUTION chosen by the pharmacist: {first.drug.print_name} {written(first.steps[0].text)} {first.route} "
            f"on days {day_ranges(days)} replaces {finding.facts.replaced.print_name}, for {reason} ({substitution.answers}); "
            f"dosed per its label ({first.steps[0].value.source.split(',')[0]}).")


def _unmatched_allergy(finding) -> str:
    return (f"Recorded allergy '{finding.facts.entry}' names no drug this tool knows, so it was not checked "
            "against these orders: check every order against it by hand.")


def _withheld(finding) -> str:
    """An order not made, over the days it falls on (facts: its schedule.Withheld.What, one a day)."""
    days = finding.facts
    first = days[0]
    unit = first.order.drug.unit
    doses = [significant(amount) for amount in sorted({w.calculated.m_as(unit) for w in days})]
    smallest = f"{significant(first.step.m_as(unit))} {unit}"
    if first.fine is not None:
        smallest = f"{significant(first.fine.m_as(unit))} {unit}, the smallest measurable volume of {first.product.form}"
    return (f"NOT ORDERED: {finding.subject} on day{'s' if len(days) > 1 else ''} "
            f"{day_ranges(w.day for w in days)}: the calculated dose ({' / '.join(doses)} {unit}) cannot be given within "
            f"{percent(first.bound.value)} of itself (smallest step {smallest}). The prescriber must order this dose "
            "outside the tool; every other order on this sheet stands.")


def _results_override(finding) -> str:
    facts = finding.facts
    what = "; and ".join(_failed(c) for c in facts.unmet) if facts.unmet else "no start criterion needed it"
    return f"RESULTS OVERRIDE: {what}. Started anyway for this reason: {facts.reason}"


def _failed(checked) -> str:
    """A result that fails its criterion: "labs[2] neutrophils 0.3 × 10⁹/L on 30 Aug 2026 is not above 0.5 × 10⁹/L"."""
    return f"{checked.result.field} {result_text(checked)} is not {criterion_text(checked.criterion).removeprefix(checked.criterion.name + ' ')}"


def result_text(checked) -> str:
    """The result a criterion was checked with: "neutrophils 0.8 × 10⁹/L on 31 Aug 2026", an eGFR with its working."""
    taken = f"{checked.result.taken:%d %b %Y}" + (f" {checked.result.taken:%H:%M}" if checked.result.time_known else "")
    if checked.egfr is None:
        return f"{checked.criterion.name} {measured_text(checked.value)} on {taken}"
    return f"eGFR {egfr_text(checked)} from creatinine {measured_text(checked.result.value)} on {taken}"


def egfr_text(checked) -> str:
    """"approximately 99.6 mL/min/1.73 m² (0.413 × 60 cm ÷ 0.249 mg/dL)": approximate where k is a placeholder
    (no validated k from 1 to 12 months, docs/reference.md §12)."""
    e = checked.egfr
    return (f"{'approximately ' if e.approximate else ''}{measured_text(round(checked.value, 1))} "
            f"({number(e.k.value)} × {number(round(e.length_cm, 1))} cm ÷ {number(round(e.creatinine_mg_dl, 3))} mg/dL)")


# -- warnings --------------------------------------------------------------------------------


def _start_criteria(finding) -> list[str]:
    """What is left to do about the start criteria: results missing, thresholds the centre has not set (met: the box says)."""
    facts, said = finding.facts, []
    missing = facts.having(NO_RESULT)
    if missing:
        names = _names(("creatinine" if c.criterion.test == "egfr" else c.criterion.name for c in missing), "or")
        said.append(f"Start criteria not checked: no {names} result taken from {facts.earliest:%d %b %Y} to day 1 "
                    f"({facts.start:%d %b %Y}) is in the patient file: check {'them' if len(missing) > 1 else 'it'} before day 1 "
                    "and tick the Start criteria box on the order sheet.")
    unset = tuple(c for c in facts.checked if c.criterion.placeholder)
    if unset:
        said.append(f"DRAFT: the start criteria for {_names(c.criterion.name for c in unset)} have no published threshold "
                    "(placeholders the centre sets, docs/reference.md §12): the order sheet prints them as blanks; "
                    "compare the results with the centre's thresholds.")
    return said


def _names(names, joined: str = "and") -> str:
    """"neutrophils, platelets and ALT": each name once."""
    names = list(dict.fromkeys(names))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {joined} " + names[-1]




def _stale_measurement(finding) -> str:
    facts = finding.facts
    return (f"Weight and length were measured on {facts.measured:%d %b %Y}, {facts.days_before} days before the phase "
            f"starts (more than {facts.limit_days}): weigh and measure the infant and recalculate.")


def _growth(finding) -> str:
    facts = finding.facts
    if not hasattr(facts, "centile"):  # growth.NotChecked
        return (f"Weight and length were NOT checked against the WHO growth standard: {facts.reason}. "
                "Check them on a centile chart by hand before the doses are given.")
    side = "below the 0.1st" if facts.below else "above the 99.9th"
    return (f"{facts.kind} {facts.value:.4g} {facts.unit} on {facts.measured:%d %b %Y} is at the {_ordinal(facts.centile)} centile "
            f"(z {facts.z:+.1f}) for a {'girl' if facts.sex == 'female' else 'boy'} of {facts.age_days} days: {side} centile of the "
            "WHO growth standard. Check the measurement before the doses are given.")


def _ordinal(value: float) -> str:
    return f"{value:.2g}" if value < 1 else f"{value:.1f}" if value > 99 else f"{value:.0f}"


def _when(facts) -> str:
    return f"from day {facts.day} ({facts.date:%d %b %Y}, age {facts.age_months} months)"


def _band_change(finding) -> str:
    facts = finding.facts
    return (f"{finding.subject}: the INTRATHECAL age band changes inside this phase {_when(facts)}: band "
            f"{band_text(facts.bands, facts.after)}, {facts.after.text} (was {facts.before.text}, band "
            f"{band_text(facts.bands, facts.before)}).")


def _fraction_change(finding) -> str:
    facts = finding.facts
    return (f"{finding.subject}: the infant fraction changes inside this phase {_when(facts)}: "
            f"{_fraction(facts.after)} instead of {_fraction(facts.before)}.")


def _fraction(factor) -> str:
    return "full dose" if factor == 1 else f"{factor} of the dose"


def _rounding(finding) -> str:
    facts = finding.facts
    days = ", ".join(str(day) for day in facts.days)
    return (f"{finding.subject} day{'s' if len(facts.days) > 1 else ''} {days}: rounding to the "
            f"{'measurable volume' if facts.by_volume else 'product step'} moves each dose by {facts.change:.1%} "
            f"(calculated {facts.calculated:.4g} {facts.unit:~P}, given {facts.given:g} {facts.unit:~P}); check with the prescriber.")


def _anthracycline_limit(finding) -> str:
    facts = finding.facts
    if facts.unit == "mg/kg":
        return (f"Cumulative anthracycline after this phase is {facts.total:.1f} mg/kg, past the {facts.limit} mg/kg "
                f"label limit for children under {_age(facts.below_months)} (docs/reference.md §10): review with the prescriber.")
    return (f"Cumulative anthracycline after this phase is {facts.total:.0f} mg/m² in doxorubicin equivalents, past "
            f"{facts.limit} mg/m²: review with the prescriber.")


def _age(months: int) -> str:
    """24 -> "2 years", 18 -> "18 months": as the label states its limit."""
    return f"{months // 12} years" if months % 12 == 0 and months >= 24 else f"{months} months"


def _fluid(finding) -> str:
    facts = finding.facts
    worst, maintenance = facts.worst, facts.maintenance.m_as("mL")
    kg = number(round(facts.weight.m_as("kg"), 3))
    parts = ", ".join(f"{name} {number(round(volume.m_as('mL'), 1))} mL" for name, volume in worst.parts)
    return (f"Fluid: on day{'s' if len(facts.days) > 1 else ''} {day_ranges(facts.days)} the infusions on this sheet give up to "
            f"{number(round(worst.volume.m_as('mL')))} mL a day ({parts}), "
            f"{number(round(worst.volume.m_as('mL') / maintenance * 100))} % of the maintenance fluid for {kg} kg "
            f"({number(round(maintenance))} mL a day by Holliday–Segar; the warning is above "
            f"{percent(facts.share)}). Count it in the infant's total fluid. " + _lower_volume(facts))


def _lower_volume(facts) -> str:
    """The lower-volume option: for a continuous infusion, the allowed bag with the least volume a day."""
    if not facts.bags:
        return "Lower-volume option: ask the pharmacy for the most concentrated preparation the products allow."
    if facts.lower is None:
        return f"These are already the lowest-volume bags allowed for {_rate(facts.weight, 'kg')}."
    least = facts.lower
    return (f"Lower-volume option: {least.hours}-hour bags at {_rate(least.rate)} ({_rate(least.rate * Q(24, 'hour'), 'mL')} a day): "
            f"order them with --bag-hours {least.hours}.")


def _rate(quantity, unit: str = "mL/hour") -> str:
    shown = {"mL/hour": "mL/h"}.get(unit, unit)
    return f"{number(round(quantity.m_as(unit), 2))} {shown}"


def _weight_change(finding) -> str:
    f = finding.facts
    return (f"Weight changed by {f.change:+.0%} since the last sheet issued for this patient "
            f"({f.before_kg:g} kg, {f.last_phase}, issued {f.last_issued}): check the weight and the doses.")


def _resumption(finding) -> list[str]:
    """Several sentences: the interruption, the course from the restart, the premedication."""
    result, premedication = finding.facts.result, finding.facts.premedication
    hours = result.interruption.total_seconds() / 3600
    said = [f"Infusion stopped after {result.infused_hours:g} hours and interrupted for {hours:g} hours."]
    limit, course = f"{result.new_course_after.total_seconds() / 86400:g} days", f"{result.course_hours / 24:g}"
    if result.new_course:
        said.append(f"The interruption is longer than {limit}: this is a new course of {course} days ({result.course_hours:g} hours) "
                    "from the restart, as the product label says. The prescriber must confirm a new course.")
    else:
        said.append(f"The interruption is {limit} or less: continue to {course} infusion days in total, "
                    f"{result.remaining_hours:g} hours from the restart.")
    if result.premedication:
        said.append(f"The interruption lasted {result.premedicate_after.total_seconds() / 3600:g} hours or more: give dexamethasone "
                    f"{amount(premedication.total, 'mg')} IV 30 to 60 minutes before the restart.")
    return said


_WORDS = {
    "said": lambda finding: finding.facts.text,
    **methotrexate.WORDS,  # high-dose methotrexate's findings (dosing.rescue), worded with its section
    "weight change": _weight_change,
    "resumption": _resumption,
    "dates override": _dates_override,
    "far from today": _far_from_today,
    "infusion start assumed": _infusion_start_assumed,
    "substitution": _substitution,
    "unmatched allergy": _unmatched_allergy,
    "withheld": _withheld,
    "stale measurement": _stale_measurement,
    "growth": _growth,
    "band change": _band_change,
    "fraction change": _fraction_change,
    "rounding": _rounding,
    "anthracycline limit": _anthracycline_limit,
    "unverified": lambda finding: ("Reference values: the regimen has not been verified against the protocol document by a "
                                   "pharmacist of the treating centre."),
    "draft": lambda finding: f"DRAFT: the orders use placeholder values ({TAG_MEANING['?']}).",
    "fluid": _fluid,
    **ADJUSTED,
    "results override": _results_override,
    "start criteria": _start_criteria,
}
