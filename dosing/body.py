"""Body surface area and age: the two facts about the infant every dose needs.

`measure` is the pipeline's body step: the measurement a phase uses, and the
BSA from it as the sheet prints it.

BSA formulas take length in cm and weight in kg (Boyd: grams) and give m².
The quantities arrive with their units and are converted here, at the one
place a formula needs bare numbers.
"""

import calendar
import math
from datetime import date

import attrs

from dosing.dose import round_half_up
from dosing.errors import InputError
from dosing.units import Q


def _mosteller(cm: float, kg: float) -> float:
    return math.sqrt(cm * kg / 3600)


def _haycock(cm: float, kg: float) -> float:
    return 0.024265 * cm**0.3964 * kg**0.5378


def _dubois(cm: float, kg: float) -> float:
    return 0.007184 * cm**0.725 * kg**0.425


def _gehan_george(cm: float, kg: float) -> float:
    return 0.0235 * cm**0.42246 * kg**0.51456


def _boyd(cm: float, kg: float) -> float:
    grams = kg * 1000
    return 0.0003207 * cm**0.3 * grams ** (0.7285 - 0.0188 * math.log10(grams))


# Name in the regimen data -> (formula, how the sheet writes it out).
BSA_FORMULAS = {
    "mosteller": (_mosteller, "Mosteller: √(length cm × weight kg ÷ 3600)"),
    "haycock": (_haycock, "Haycock: 0.024265 × length cm^0.3964 × weight kg^0.5378"),
    "dubois": (_dubois, "DuBois: 0.007184 × length cm^0.725 × weight kg^0.425"),
    "gehan_george": (_gehan_george, "Gehan–George: 0.0235 × length cm^0.42246 × weight kg^0.51456"),
    "boyd": (_boyd, "Boyd: 0.0003207 × length cm^0.3 × weight g^(0.7285 − 0.0188 × log10 weight g)"),
}


def bsa(weight, length, formula: str = "mosteller"):
    """Body surface area in m², unrounded (it enters the arithmetic as it is)."""
    function, _ = BSA_FORMULAS[formula]
    return Q(function(length.m_as("cm"), weight.m_as("kg")), "m**2")


def age_in_months(birth: date, on: date) -> int:
    """Completed calendar months from birth to `on`.

    The month-day is the birth day, or the last day of a shorter month: born
    31 January, one month old on 28 February (29 in a leap year).
    """
    if on < birth:
        raise ValueError(f"{on} is before the birth date {birth}")
    months = (on.year - birth.year) * 12 + (on.month - birth.month)
    last_day = calendar.monthrange(on.year, on.month)[1]
    if on.day < min(birth.day, last_day):
        months -= 1
    return months


def age_in_days(birth: date, on: date) -> int:
    return (on - birth).days


@attrs.frozen
class Body:
    """The infant's size every dose of a phase uses."""

    measurement: object  #: patient.Measurement: the newest on or before day 1
    bsa: object  #: m², rounded as the protocol says: the BSA printed is the one every dose uses
    formula: str  #: the protocol's BSA formula (BSA_FORMULAS)
    birth_date: date

    def age_on(self, day: date) -> int:
        """Completed months on `day`: each dose's infant fraction and age band are chosen by it."""
        return age_in_months(self.birth_date, day)


def measure(patient, protocol, start: date) -> Body:
    """The measurement and BSA for a phase starting on `start` (day 1)."""
    if start < patient.diagnosis_date:
        raise InputError("--start", f"{start} is before the diagnosis date {patient.diagnosis_date}", "give the date of day 1 of the phase")
    measurement = patient.measurement_on(start)
    return Body(measurement, dosing_bsa(measurement, protocol), protocol.bsa_formula.value, patient.birth_date)


def dosing_bsa(measurement, protocol):
    """The BSA a dose is worked from, for this measurement: the protocol's formula, rounded as the protocol
    says. The BSA every dose uses is the one printed, to the digits printed (issue 12)."""
    area = bsa(measurement.weight, measurement.length, protocol.bsa_formula.value)
    if protocol.bsa_rounding is not None:
        area = round_half_up(area, protocol.bsa_rounding.value)
    return area
