"""Dose arithmetic: pure functions on pint quantities, nothing else.

The order of operations is docs/reference.md §11: basis × size × infant fraction,
divided into the day's doses, capped, then rounded half up per dose (down,
for a dose the infant's results reduced: docs/reference.md §12); the day's
total is the rounded dose times the number of doses.
"""

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction

from dosing.units import Q, basis_kind, drug_unit, is_per_day, unit

# Binary floating point carries noise in the last digits (0.3 × 3 is
# 0.8999999999999999). Before a half-up decision the value is read to this
# many significant figures, far beyond any measurable dose, so the noise can
# never tip a dose that is exactly half a step.
SIGNIFICANT_FIGURES = 12


def decimal(quantity, name: str) -> Decimal:
    """The magnitude in unit `name` as a Decimal, free of float noise."""
    return Decimal(format(quantity.m_as(unit(name)), f".{SIGNIFICANT_FIGURES}g"))


def round_half_up(quantity, step):
    """Round to the nearest multiple of `step`; exactly half a step goes up.

    Python's round() rounds half to even, which would give 0.32 mg for
    0.325 mg; a pharmacy rounds it to 0.33 mg.
    """
    name = str(step.units)
    return Q(float(_half_up(decimal(quantity, name), decimal(step, name))), name)


def _half_up(exact: Decimal, size: Decimal) -> Decimal:
    return (exact / size).quantize(Decimal(1), rounding=ROUND_HALF_UP) * size


def round_down(quantity, step):
    """Down to a multiple of `step`: a dose already reduced for TPMT/NUDT15, organ function or counts is never
    rounded up (docs/reference.md §12, HOPA). Used only for doses dosing.adjustments reduced."""
    name = str(step.units)
    return Q(float(_down(decimal(quantity, name), decimal(step, name))), name)


def _down(exact: Decimal, size: Decimal) -> Decimal:
    return (exact / size).quantize(Decimal(1), rounding=ROUND_FLOOR) * size


def times(quantity, count: int):
    """A rounded dose times the number of doses, without float noise (0.35 × 3 = 1.05)."""
    name = str(quantity.units)
    return Q(float(decimal(quantity, name) * count), name)


def per_administration(basis, bsa, weight, divided: int):
    """The dose for one administration before any adjustment, in the drug's unit.

    A per-day basis is divided into `divided` doses; a per-administration
    basis is given as it is.
    """
    kind = basis_kind(basis)
    amount = basis * bsa if kind == "per_m2" else basis * weight if kind == "per_kg" else basis
    if is_per_day(basis):
        amount = amount * Q(1, "day") / divided
    return amount.to(unit(drug_unit(basis)))


def apply_factor(dose, factor: Fraction):
    return dose * (factor.numerator / factor.denominator)


def apply_cap(dose, cap, doses_per_day: int):
    """(capped dose, whether the cap bit). A '/day' cap limits the day's total."""
    if cap is None:
        return dose, False
    limit = (cap * Q(1, "day") / doses_per_day) if is_per_day(cap) else cap
    limit = limit.to(dose.units)
    if dose > limit:
        return limit, True
    return dose, False


def split(dose, fractions, step):
    """One infusion in parts (10 % then 90 %): each part but the last rounded half up
    to the step, the last the remainder, so the parts add up to the dose exactly."""
    name = str(dose.units)
    total = decimal(dose, name)
    parts, given = [], Decimal(0)
    for fraction in fractions[:-1]:
        part = decimal(round_half_up(dose * (fraction.numerator / fraction.denominator), step), name)
        parts.append(part)
        given += part
    parts.append(total - given)
    return [Q(float(part), name) for part in parts]


def round_within(calculated, step, bound: Fraction, down: bool = False):
    """The dose rounded half up to `step` (`down`: down, for a reduced dose), or None when that moves it more
    than `bound` (HOPA: 10 %) of the calculated dose, or to nothing."""
    name = str(step.units)
    exact = decimal(calculated, name)
    given = (_down if down else _half_up)(exact, decimal(step, name))
    if given > 0 and abs(given - exact) / exact <= Decimal(bound.numerator) / Decimal(bound.denominator):
        return Q(float(given), name)
    return None
