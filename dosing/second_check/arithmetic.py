"""Plain Decimal arithmetic for the second check: BSA, age, rounding.

Every function here runs inside `decimal.localcontext(CONTEXT)` (the check
enters it once, in `check`): the process's own decimal context is never read
or changed, so nothing the check does can move the engine's arithmetic, nor
the engine's its.
"""

import calendar
from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

# 34 significant digits (IEEE 754 decimal128): far beyond any measurable dose, so a dose exactly half a
# step is exact here and rounds up, as a pharmacy rounds it.
CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)


def bsa(formula: str, kg: Decimal, cm: Decimal) -> Decimal:
    """m² by the protocol's formula (protocol.toml [bsa] formula); length in cm, weight in kg (Boyd: grams)."""
    if formula == "mosteller":
        return (cm * kg / 3600).sqrt()
    if formula == "haycock":
        return Decimal("0.024265") * cm ** Decimal("0.3964") * kg ** Decimal("0.5378")
    if formula == "dubois":
        return Decimal("0.007184") * cm ** Decimal("0.725") * kg ** Decimal("0.425")
    if formula == "gehan_george":
        return Decimal("0.0235") * cm ** Decimal("0.42246") * kg ** Decimal("0.51456")
    if formula == "boyd":
        grams = kg * 1000
        return Decimal("0.0003207") * cm ** Decimal("0.3") * grams ** (Decimal("0.7285") - Decimal("0.0188") * grams.log10())
    raise ValueError(f"unknown BSA formula {formula!r}")


def half_up(value: Decimal, step: Decimal) -> Decimal:
    """The nearest multiple of `step`; exactly half a step goes up (0.325 mg -> 0.33 mg at 0.01 mg)."""
    return (value / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


def within(dose: Decimal, step: Decimal, bound: Decimal | None) -> Decimal | None:
    """Half up to `step`; None where that moves the dose more than `bound` (HOPA: 10 %) of itself, or to nothing."""
    given = half_up(dose, step)
    if bound is None:
        return given
    if given > 0 and abs(given - dose) / dose <= bound:
        return given
    return None


def times(value: Decimal, factor: Fraction) -> Decimal:
    return value * factor.numerator / factor.denominator


def months(born: date, on: date) -> int:
    """Completed calendar months, counted forward a month at a time (the engine subtracts; this adds).

    A month is complete on the birth day of a later month, or on that month's
    last day when it is shorter: born 31 January, one month old on 28 February.
    """
    count = 0
    while True:
        year, month = divmod(born.month + count, 12)  # the month after `count` months: 0-based month, years carried
        year, month = born.year + year, month + 1
        anniversary = date(year, month, min(born.day, calendar.monthrange(year, month)[1]))
        if anniversary > on:
            return count
        count += 1
