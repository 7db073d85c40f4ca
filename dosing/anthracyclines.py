"""Cumulative anthracyclines: before this phase, in it, and after it (docs/reference.md §10).

The doxorubicin equivalents and the limits are regimen data (protocol.toml
[anthracyclines], regimen.Anthracyclines); the sums are here, and
dosing.findings compares them with the limits.

Totals are in mg/m² and mg/kg of the doses as given (so an infant fraction
shows as a smaller mg/m²), and in doxorubicin equivalents. Each earlier dose
is divided by the body size measured on or before its date (the earliest
measurement where none is older), its BSA the one a dose is worked from
(dosing.body.dosing_bsa: rounded as the protocol says), as this phase's own
doses are. A dose in the patient file dated on or after day 1 of the phase is
refused, not left out.
"""

import attrs

from dosing.body import dosing_bsa
from dosing.errors import InputError

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
    after: Total  #: dosing.findings compares it with the limits


def _dose(factors: dict, drug: str, mg: float, area_m2: float, kg: float) -> Total:
    return Total(mg / area_m2, mg / kg, mg / area_m2 * float(factors[drug]))


@attrs.frozen
class Dose:
    """One dose the totals count, as they count it (the cumulative picture draws these)."""
    date: object  #: datetime.date
    drug: str
    total: Total  #: this dose alone, in mg/m², mg/kg and doxorubicin equivalents
    earlier: bool  #: from the patient file ([[anthracyclines]]), given before this phase


def doses(orders) -> list[Dose]:
    """Every dose counted, in the order summed: the patient file's earlier doses, then this phase's;
    [] for a phase that gives neither DAUNOrubicin nor DOXOrubicin."""
    rules = orders.protocol.anthracyclines
    factors = rules.doxorubicin_equivalent.value
    given = [a for a in orders.administrations if a.drug in factors]
    if not given:
        return []
    patient = orders.patient
    counted = []
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
        area = dosing_bsa(measured, orders.protocol).m_as("m**2")  # the BSA that dose was worked from
        counted.append(Dose(dose.date, dose.drug, _dose(factors, dose.drug, dose.amount.m_as("mg"), area, measured.weight.m_as("kg")), True))
    for a in given:
        counted.append(Dose(a.date, a.drug, _dose(factors, a.drug, a.total.m_as("mg"), orders.bsa.m_as("m**2"),
                                                  orders.measurement.weight.m_as("kg")), False))
    return counted


def cumulative(orders) -> Cumulative | None:
    """The totals for a phase that gives DAUNOrubicin or DOXOrubicin; None for one that gives neither."""
    counted = doses(orders)
    if not counted:
        return None
    before = this_phase = NONE
    for dose in counted:  # summed in the same order as ever, so the totals stay the same to the last digit
        if dose.earlier:
            before = before + dose.total
        else:
            this_phase = this_phase + dose.total
    return Cumulative(before, this_phase, before + this_phase)
