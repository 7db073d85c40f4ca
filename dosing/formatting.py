"""How numbers, units, dates and working are written on a sheet (ISMP).

No trailing zero (2 mg, never 2.0 mg), a leading zero (0.5 mg), a thousands
separator from 1,000, a space between number and unit, and units as ISMP
writes them (mg, mcg, units, mL, mg/m²). This is the only place a quantity
becomes text.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from dosing.dose import decimal

UNIT_TEXT = {
    "mg/m2": "mg/m²", "mcg/m2": "mcg/m²", "units/m2": "units/m²",
    "mg/m2/day": "mg/m²/day", "mcg/m2/day": "mcg/m²/day", "units/m2/day": "units/m²/day",
}


def tall_man(text: str, names: dict[str, str]) -> str:
    """Every look-alike drug name in Tall Man letters (vincristine -> vinCRIStine), wherever printed.

    `names` maps the generic name to its printed name (regimens/drugs.toml).
    """
    for generic, printed in names.items():
        if generic != printed and generic.lower() == printed.lower():
            text = re.sub(rf"\b{generic}\b", printed, text, flags=re.IGNORECASE)
    return text


def number(value) -> str:
    """ISMP number: '0.33', '2', '1,000', '1,312.5'."""
    value = value if isinstance(value, Decimal) else Decimal(format(value, ".12g"))
    text = format(value.normalize(), ",f")
    return "0" if text in ("-0", "") else text


def significant(value: float, figures: int = 4) -> str:
    """A calculated value to a few significant figures, still ISMP ('0.4392', '219.6').

    Large values keep one decimal place ('1,386.3', not '1,386'), so a
    calculated dose never reads the same as a rounded one that differs.
    """
    if value >= 1000:
        figures = max(figures, len(str(int(value))) + 1)
    return number(Decimal(format(value, f".{figures}g")))


def amount(quantity, unit: str) -> str:
    """'0.33 mg' from a quantity, in the order unit."""
    return f"{number(decimal(quantity, unit))} {unit}"


def written(text: str) -> str:
    """A dose basis as the data writes it ('1.5 mg/m2') as a sheet prints it ('1.5 mg/m²')."""
    figure, _, unit = text.strip().partition(" ")
    unit = unit.replace(" ", "")
    return f"{number(Decimal(figure))} {UNIT_TEXT.get(unit, unit)}"


def day(on) -> str:
    return f"{on:%a} {on.day} {on:%b %Y}"


def short_day(on) -> str:
    return f"{on.day} {on:%b}"


def day_ranges(days) -> str:
    """(1, 2, 3, 8) -> '1–3, 8'."""
    runs, start, previous = [], None, None
    for d in list(days) + [None]:
        if start is None:
            start = previous = d
        elif d is not None and d == previous + 1:
            previous = d
        else:
            runs.append(str(start) if start == previous else f"{start}–{previous}")
            start = previous = d
    return ", ".join(runs)


def count_word(n: int) -> str:
    return {1: "once", 2: "twice", 3: "three times", 4: "four times"}.get(n, f"{n} times")


def band_text(bands, band) -> str:
    """'12 to under 24 months', 'under 12 months', '36 months and over'."""
    following = [b.from_months for b in bands if b.from_months > band.from_months]
    if not following:
        return f"{band.from_months} months and over"
    if band.from_months == 0:
        return f"under {following[0]} months"
    return f"{band.from_months} to under {following[0]} months"


def percent(fraction) -> str:
    """Fraction(1, 10) -> '10 %'."""
    return f"{number(Decimal(fraction.numerator * 100) / fraction.denominator)} %"


def calculated_text(value: float, step, final) -> str:
    """A calculated dose to enough figures that rounding the printed figure half up to `step`
    gives the dose given: never "1,167.5 mg, rounded to 1,167 mg" (the true value was 1,167.4999)."""
    text = significant(value)
    if step is None:
        return text
    name = str(step.units)
    size = decimal(step, name)
    wanted = decimal(final, name)
    for figures in range(4, 13):
        text = significant(value, figures)
        shown = Decimal(text.replace(",", ""))
        if (shown / size).quantize(Decimal(1), rounding=ROUND_HALF_UP) * size == wanted:
            return text
    return text


def working(a) -> str:
    """The arithmetic of one administration, as a person re-checking it would write it, naming
    the rule that gives each figure:

    '1.5 mg/m² × 0.332 m² × 2/3 (age 4 months) = 0.332 mg; rounded half up to the 0.01 mg step: 0.33 mg'
    """
    unit = a.order.drug.unit
    if a.rule == "age band":
        text = f"age {a.age_months} months, band {band_text(a.order.age_bands, a.band)}: fixed dose {amount(a.dose, unit)}, not reduced, not rounded"
        if a.volume is not None:
            text += f"; {number(round(decimal(a.volume, 'mL'), 2))} mL of {a.product.form}"
        return text
    parts = [written(a.basis_text)]
    if a.rule == "BSA":
        parts.append(f"{number(decimal(a.size, 'm**2'))} m²")
    elif a.rule in ("weight", "label weight rule"):
        parts.append(f"{number(decimal(a.size, 'kg'))} kg")
    if a.factor != 1:
        parts.append(f"{a.factor} ({a.factor_reason})")
    adjustment = a.adjustment  # what the results changed (dosing.adjustments), after the fraction, before cap and rounding
    parts += [f"{percent(change.factor)} {change.reason}" for change in (adjustment.changes if adjustment else ())]
    down = adjustment is not None and adjustment.reduced  # a reduced dose is rounded down, never up (docs/reference.md §12)
    text = " × ".join(parts)
    divided = a.order.divided > 1  # a daily dose shared out; clocked doses are each a full dose
    if divided:
        text += f" ÷ {a.order.divided} doses"
    uncapped = a.uncapped.m_as(unit)
    text += f" = {calculated_text(uncapped, None if a.capped or down else a.step, a.dose)} {unit}"
    if a.capped:
        text += f"; capped at the maximum, {amount(a.calculated, unit)}"
    if a.step is not None:
        step = amount(a.step, unit)
        if a.by_volume:
            text += (f"; the {amount(a.order.rounding.value, unit)} step would move it more than "
                     f"{percent(a.bound.value)}, so it is "
                     f"measured by volume ({a.product.form}, steps of {step}): rounded {'down' if down else 'half up'} to {amount(a.dose, unit)} "
                     f"= {number(decimal(a.volume, 'mL'))} mL")
        elif a.rounded and down:
            text += f"; rounded down to the {step} step (a reduced dose is never rounded up): {amount(a.dose, unit)}"
        elif a.rounded:
            text += f"; rounded half up to the {step} step: {amount(a.dose, unit)}"
        else:
            text += f", a whole {step} step"
    if divided:
        text += f" per dose; {count_word(a.times_per_day)} a day = {amount(a.total, unit)} a day"
    elif a.times_per_day > 1:
        text += f" per dose; {a.times_per_day} doses this day = {amount(a.total, unit)}"
    if a.order.continuous:
        text += " a day, by continuous infusion"
    if a.parts:
        (first_fraction, first_amount, first_over), *rest = a.parts
        exact = a.dose * (first_fraction.numerator / first_fraction.denominator)
        text += (f"; given in parts: {number(float(first_fraction) * 100)} % = {calculated_text(exact.m_as(unit), a.step, first_amount)} "
                 f"{unit}, rounded half up to {amount(first_amount, unit)} over {first_over}")
        text += "".join(f", then the remaining {amount(q, unit)} over {over}" for _, q, over in rest)
    if a.factor == 1 and a.factor_reason.startswith("age"):
        text += f" (full dose: {a.factor_reason})"
    elif a.factor == 1 and a.rule == "BSA":
        text += " (no infant fraction for this order)"
    if a.rule == "label weight rule":
        text += " (product label dose for small infants, instead of the infant fraction)"
    return text
