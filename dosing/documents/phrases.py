"""How a dose, a drug and an age are written: the phrases every document shares.

The order sheets, the calendar and the administration record all write a dose
with these, so a dose reads the same in the pharmacy and on the ward.
"""

from dosing.dose import decimal
from dosing.formatting import amount, number


def dose_text(a) -> str:
    """One administration's dose as the order sheets print it: '1.2 mg PO three times a day (3.6 mg a day)'."""
    unit, route = a.order.drug.unit, a.order.route
    if a.order.continuous:
        return f"{amount(a.total, unit)} a day {route}, continuous infusion"
    text = f"{amount(a.dose, unit)} {route}"
    if a.by_volume:
        text += f" ({number(decimal(a.volume, 'mL'))} mL of {a.product.form})"
    if a.order.weekly:
        text += f" once weekly on {a.date:%A}"
    if a.times:
        text += " at " + ", ".join(t.strftime("%H:%M") for t in a.times)
    elif a.times_per_day > 1:
        text += f" {times_a_day(a.times_per_day)}"
    if a.times_per_day > 1:
        text += f" ({amount(a.total, unit)} a day)"
    if a.parts:
        text += ": " + ", then ".join(f"{number(float(f) * 100)} % ({amount(q, unit)}) over {over}" for f, q, over in a.parts)
    return text


def times_a_day(n: int) -> str:
    return {2: "twice a day", 3: "three times a day", 4: "four times a day"}.get(n, f"{n} times a day")


def age_text(months: int) -> str:
    return f"{months} month{'s' if months != 1 else ''}"


def drug_name(order) -> str:
    """The printed name, with the generic name beside it where they differ beyond letter case."""
    printed, generic = order.drug.print_name, order.drug.name.replace("_", " ")
    return printed if printed.lower() == generic else f"{printed} ({generic})"
