"""The values not verified: each assumed (A) or placeholder (?) value a document rests on.

Every document lists them in its banner and its "Values not verified against
the protocol document" table, with what used them, as used, and the source;
the same assumption made on several orders (the infant fraction) is one row.
"""

import re
from fractions import Fraction

from dosing.formatting import day_ranges, number, written
from dosing.regimen import Value


def values(orders, administrations) -> list[dict]:
    """The assumed (A) and placeholder (?) values this document rests on, for the banner."""
    users: dict[int, tuple[Value, list[str]]] = {}
    for a in administrations:
        name = f"{a.order.drug.print_name} {a.route}"
        related = list(a.values)
        if a.order.rounding and a.rule != "age band":
            related.append(a.order.rounding)
        if a.order.duration:
            related.append(a.order.duration)
        for value in related:
            entry = users.setdefault(id(value), (value, []))
            if name not in entry[1]:
                entry[1].append(name)
    formula = orders.protocol.bsa_formula
    rows = {}
    if orders.bags:
        used = {id(v): v for v in orders.product.values}
        for bag in orders.bags:
            used.update({id(v): v for v in bag.settings.values})
        for value in used.values():
            users.setdefault(id(value), (value, ["blinatumomab bags"]))
    if any(a.rule == "BSA" for a in administrations):
        rows[(formula.what, formula.value, formula.tag, formula.source)] = ["every dose from BSA"]
        if orders.protocol.bsa_rounding is not None:
            step = orders.protocol.bsa_rounding
            rows[(step.what, value_text(step.value), step.tag, step.source)] = ["every dose from BSA"]
    for a in administrations:
        # The product a volume is worked from (INTRATHECAL volumes; doses measured by volume).
        if a.product is not None:
            users.setdefault(id(a.product.concentration), (a.product.concentration, []))
            name = f"{a.order.drug.print_name} {a.route} volume"
            if name not in users[id(a.product.concentration)][1]:
                users[id(a.product.concentration)][1].append(name)
    for value, names in users.values():
        rows.setdefault((value.what, value_text(value.value), value.tag, value.source), []).extend(names)
    return [
        {"what": what, "used_by": ", ".join(names), "value": text, "tag": tag, "source": source}
        for (what, text, tag, source), names in rows.items()
        if tag in ("A", "?")
    ]


def value_text(value) -> str:
    """A regimen value as the data holds it, written for the table: a quantity, a list of days, age bands, a rule."""
    if hasattr(value, "units"):
        return f"{number(value.magnitude)} {value.units:~P}".replace("µg", "mcg")
    if isinstance(value, bool):
        return "applies" if value else "does not apply"
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], tuple):
        return "; ".join(f"under {below} months: {factor}" for below, factor in value)
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], dict):
        return "; ".join(", ".join(f"{k.replace('_', ' ')} {written(v) if k == 'dose' else v}" for k, v in item.items()) for item in value)
    if isinstance(value, (list, tuple)):
        return day_ranges(value)
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, dict) and set(value) == {"drug", "route", "hours"}:  # a dose timed from another order
        return f"at {', '.join(number(h) for h in value['hours'])} hours after each {value['drug'].replace('_', ' ')} {value['route']} dose"
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)? [a-z]+(/[a-z0-9]+)*", value):
        return written(value)  # a dose as the data writes it: "1000 units/m2" -> "1,000 units/m²"
    return str(value)
