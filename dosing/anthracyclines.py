"""Cumulative anthracyclines: before this phase, in it, and after it (reference.md §10).

Totals are in mg/m² and mg/kg of the doses as given (so an infant fraction
shows as a smaller mg/m²), and in doxorubicin equivalents. Each earlier dose
is divided by the body size measured on or before its date (the earliest
measurement where none is older). A dose in the patient file dated on or
after day 1 of the phase is refused, not left out.
"""

from fractions import Fraction

import attrs

from dosing.body import age_in_months, bsa
from dosing.errors import InputError

# reference.md §10 (P: IGHG, Feijen et al. 2019): mg of doxorubicin per mg of each drug.
DOXORUBICIN_EQUIVALENT = {"daunorubicin": Fraction(6, 10), "doxorubicin": Fraction(1)}
# reference.md §10 (P: daunorubicin label): cumulative limit for children under 2 years.
LIMIT_MG_PER_KG_UNDER_TWO = 10
# safety.md: the warning threshold in doxorubicin equivalents.
LIMIT_DOXORUBICIN_EQUIVALENT_MG_PER_M2 = 300


@attrs.frozen
class Total:
    mg_per_m2: float
    mg_per_kg: float
    doxorubicin_equivalent: float  #: mg/m²

    def __add__(self, other: "Total") -> "Total":
        return Total(self.mg_per_m2 + other.mg_per_m2, self.mg_per_kg + other.mg_per_kg,
                     self.doxorubicin_equivalent + other.doxorubicin_equivalent)


NONE = Total(0.0, 0.0, 0.0)


@attrs.frozen
class Cumulative:
    before: Total
    this_phase: Total
    after: Total
    warnings: tuple[str, ...]


def _dose(drug: str, mg: float, area_m2: float, kg: float) -> Total:
    return Total(mg / area_m2, mg / kg, mg / area_m2 * float(DOXORUBICIN_EQUIVALENT[drug]))


def cumulative(orders) -> Cumulative | None:
    """The totals for a phase that gives DAUNOrubicin or DOXOrubicin; None for one that gives neither."""
    given = [a for a in orders.administrations if a.drug in DOXORUBICIN_EQUIVALENT]
    if not given:
        return None
    patient = orders.patient
    before = NONE
    earliest = min(patient.measurements, key=lambda m: m.date)
    for number, dose in enumerate(patient.anthracyclines, start=1):
        if dose.date >= orders.start:
            # The file lists doses given before this phase; this phase's own doses come from
            # the sheet. A later date is a dose of this phase already recorded, or a wrong
            # date: counting it or leaving it out silently would both misstate the total.
            raise InputError(
                f"anthracyclines[{number}].date",
                f"{dose.date} is on or after day 1 of this phase ({orders.start}); the doses listed in the patient file are "
                "the ones given before this phase, and this phase's own doses are counted from the sheet",
                "remove it if it is a dose of this phase, or correct its date",
            )
        usable = [m for m in patient.measurements if m.date <= dose.date]
        measured = max(usable, key=lambda m: m.date) if usable else earliest
        area = bsa(measured.weight, measured.length, orders.bsa_formula).m_as("m**2")
        before = before + _dose(dose.drug, dose.amount.m_as("mg"), area, measured.weight.m_as("kg"))
    this_phase = NONE
    for a in given:
        this_phase = this_phase + _dose(a.drug, a.total.m_as("mg"), orders.bsa.m_as("m**2"), orders.measurement.weight.m_as("kg"))
    after = before + this_phase
    age = age_in_months(patient.birth_date, orders.end)
    found = []
    if age < 24 and after.mg_per_kg > LIMIT_MG_PER_KG_UNDER_TWO:
        found.append(f"Cumulative anthracycline after this phase is {after.mg_per_kg:.1f} mg/kg, past the {LIMIT_MG_PER_KG_UNDER_TWO} mg/kg "
                     "label limit for children under 2 years (docs/reference.md §10): review with the prescriber.")
    if after.doxorubicin_equivalent > LIMIT_DOXORUBICIN_EQUIVALENT_MG_PER_M2:
        found.append(f"Cumulative anthracycline after this phase is {after.doxorubicin_equivalent:.0f} mg/m² in doxorubicin equivalents, past "
                     f"{LIMIT_DOXORUBICIN_EQUIVALENT_MG_PER_M2} mg/m²: review with the prescriber.")
    return Cumulative(before, this_phase, after, tuple(found))
