"""What each printed document says: the order sheet and the INTRATHECAL sheet.

This module turns computed PhaseOrders into plain template context (text
only, already formatted); templates/ lays it out and dosing.render prints
it. Orders are split by route here, so an INTRATHECAL order and an IV vinca
alkaloid can never share a page: they are never in the same document.
"""

import re
from datetime import datetime
from fractions import Fraction

import attrs

from dosing import __version__
from dosing.checks import warnings
from dosing.body import BSA_FORMULAS, age_in_months
from dosing.dose import decimal
from dosing.formatting import amount, band_text, day, day_ranges, number, percent, short_day, significant, working, written
from dosing.regimen import TAG_MEANING, Value, weakest
from dosing.units import Q, is_per_day

ROUTE_TEXT = {
    "IV": "intravenous (IV)",
    "PO": "by mouth (PO)",
    "IM": "intramuscular (IM)",
    "SC": "subcutaneous (SC)",
    "INTRATHECAL": "INTRATHECAL",
}


@attrs.frozen
class Document:
    kind: str  #: "orders" or "intrathecal": also the end of the file name
    title: str
    template: str
    context: dict


def documents(orders, produced: datetime | None = None, issue: dict | None = None) -> list[Document]:
    """The documents a phase prints: systemic orders, and INTRATHECAL orders if any.

    `issue` is the version being issued: {"version", "replaces", "changes"}.
    """
    produced = produced or datetime.now()
    issue = issue or {"version": 1, "replaces": None, "changes": []}
    systemic = [a for a in orders.administrations if a.route != "INTRATHECAL"]
    spinal = [a for a in orders.administrations if a.route == "INTRATHECAL"]
    found = []
    if systemic:
        found.append(Document("orders", "Chemotherapy orders", "orders.html", _context(orders, systemic, produced, "Chemotherapy orders")))
    if spinal:
        context = _context(orders, spinal, produced, "INTRATHECAL chemotherapy orders")
        context["punctures"] = _punctures(spinal)
        found.append(Document("intrathecal", "INTRATHECAL chemotherapy orders", "intrathecal.html", context))
    if orders.bags:
        for kind, title, template in (("infusion", "Blinatumomab infusion: bag schedule", "infusion.html"),
                                      ("preparation", "Blinatumomab bags: pharmacy preparation worksheet", "preparation.html")):
            context = _context(orders, systemic, produced, title)
            context.update(_bag_context(orders))
            found.append(Document(kind, title, template, context))
    from dosing import nursing

    every = systemic + spinal
    context = _context(orders, every, produced, "Phase calendar")
    context["calendar"] = nursing.calendar(orders)
    found.append(Document("calendar", "Phase calendar", "calendar.html", context))
    # The record keeps INTRATHECAL apart like the order sheets: its first pages carry the
    # systemic warnings and values, its INTRATHECAL pages their own.
    context = _context(orders, systemic or every, produced, "Bedside administration record")
    context["record"] = nursing.record(orders)
    context["spinal_warnings"] = warnings(orders, spinal) if spinal and systemic else []
    context["spinal_banner"] = _values(orders, spinal) if spinal and systemic else []
    found.append(Document("administration-record", "Bedside administration record", "record.html", context))
    for document in found:
        document.context["issue"] = issue
    return found


def _bag_context(orders) -> dict:
    """The bags as text for the nurse's schedule and the pharmacy worksheet."""
    product = orders.product
    premedication = next((a for a in orders.administrations if a.drug == "dexamethasone" and a.route == "IV"), None)
    rows = []
    for bag in orders.bags:
        settings = bag.settings
        exact = (bag.dose * (settings.saline + settings.stabiliser) / (bag.volume * product.concentration - bag.dose)).to("mL")
        rows.append({
            "number": bag.number,
            "start": f"{day(bag.start.date())} {bag.start:%H:%M}",
            "end": f"{day(bag.end.date())} {bag.end:%H:%M}",
            "hours": number(bag.hours),
            "dose": amount(bag.dose, "mcg"),
            "rate": f"{number(bag.rate.m_as('mL/hour'))} mL/h",
            "volume": f"{number(round(bag.volume.m_as('mL'), 2))} mL",
            "vials": bag.vials,
            "diluent": settings.diluent,
            "saline": f"{number(settings.saline.m_as('mL'))} mL",
            "stabiliser": f"{number(settings.stabiliser.m_as('mL'))} mL",
            "drug_volume": f"{number(bag.drug_volume.m_as('mL'))} mL",
            "total": f"{number(round(bag.total_volume.m_as('mL'), 2))} mL",
            "overfill": f"{number(round(bag.overfill.m_as('mL'), 2))} mL",
            "delivered": f"{significant(bag.delivered.m_as('mcg'))} mcg",
            "preservative": settings.preservative,
            "working": (
                f"{amount(bag.dose, 'mcg')} × ({number(settings.saline.m_as('mL'))} mL + {number(settings.stabiliser.m_as('mL'))} mL) ÷ "
                f"({number(round(bag.volume.m_as('mL'), 2))} mL × {number(product.concentration.m_as('mcg/mL'))} mcg/mL − {amount(bag.dose, 'mcg')}) "
                f"= {significant(exact.m_as('mL'))} mL, measured as {number(bag.drug_volume.m_as('mL'))} mL"
            ),
        })
    return {
        "bags": rows,
        "bag_hours": number(orders.bags[0].hours),
        "daily": amount(orders.bags[0].daily * Q(1, "day"), "mcg"),
        "course_hours": number(sum(b.hours for b in orders.bags)),
        "product": {
            "name": product.name,
            "vial": amount(product.vial, "mcg"),
            "water": f"{number(product.water.m_as('mL'))} mL",
            "concentration": f"{number(product.concentration.m_as('mcg/mL'))} mcg/mL",
            "per_vial": f"{number(round((product.vial / product.concentration).m_as('mL'), 2))} mL",
            "filter": product.filter,
            "syringe_step": f"{number(product.syringe_step.m_as('mL'))} mL",
            "preservative_free_below": f"{number(product.preservative_free_below.m_as('kg'))} kg",
            "source": str(product.path.name),
        },
        "premedication": dose_text(premedication) if premedication else None,
    }


def _context(orders, administrations, produced, title) -> dict:
    patient, measurement = orders.patient, orders.measurement
    values = _values(orders, administrations)
    return {
        "title": title,
        "produced": f"{produced:%d %b %Y %H:%M}",
        "version": __version__,
        "patient": {
            "name": patient.name,
            "id": patient.id,
            "birth_date": day(patient.birth_date),
            "sex": patient.sex,
            "diagnosis_date": day(patient.diagnosis_date),
            "allergies": ", ".join(patient.allergies) if patient.allergies else "No known allergies",
            "has_allergies": bool(patient.allergies),
            "disease": f"KMT2A {patient.kmt2a}, {patient.cns}",
            "age_at_start": _age_text(age_in_months(patient.birth_date, orders.start)),
        },
        "protocol": {
            "name": orders.protocol.name,
            "registry": orders.protocol.registry,
            "version": orders.protocol.version,
            "verified": orders.protocol.verified,
            "verification": orders.protocol.verification,
        },
        "phase": {
            "title": orders.phase.title,
            "start": day(orders.start),
            "end": day(orders.end),
            "length": orders.last_day,
            "ends": orders.phase.ends.value if orders.phase.ends else None,
            "window": _window(orders),
            "titrated": orders.phase.titrated,
            "tests": _tests(orders),
            "infusion_start": orders.infusion_start.strftime("%H:%M") if orders.infusion_start else None,
            "infusion_what": "the first bag goes up" if orders.bags else "high-dose methotrexate starts",
        },
        "override": orders.override,
        "anthracyclines": _anthracycline_rows(orders, administrations),
        "body": {
            "weight": _measure(measurement.weight, "kg"),
            "length": _measure(measurement.length, "cm"),
            "measured": day(measurement.date),
            "bsa": f"{number(decimal(orders.bsa, 'm**2'))} m²",
            "formula": BSA_FORMULAS[orders.bsa_formula][1] + (
                f", rounded half up to {number(decimal(orders.protocol.bsa_rounding.value, 'm**2'))} m² before any dose"
                if orders.protocol.bsa_rounding else ""),
        },
        "warnings": list(orders.notices) + warnings(orders, administrations),
        "orders": _order_blocks(orders, administrations),
        "days": _day_by_day(orders, administrations),
        "banner": values,
        "rounding_rule": rounding_rule(orders, administrations),
        "draft": any(row["tag"] == "?" for row in values),
        "tags": TAG_MEANING,
        "tall_man": {name: drug.print_name for name, drug in orders.protocol.drugs.items()},
    }


def _anthracycline_rows(orders, administrations) -> list[dict] | None:
    """Before, this phase, after: on every document that orders DAUNOrubicin or DOXOrubicin."""
    if orders.anthracyclines is None or not any(a.drug in ("daunorubicin", "doxorubicin") for a in administrations):
        return None
    c = orders.anthracyclines

    def row(label, t):
        return {"label": label, "mg_per_m2": f"{number(round(t.mg_per_m2, 1))} mg/m²", "mg_per_kg": f"{number(round(t.mg_per_kg, 2))} mg/kg",
                "equivalent": f"{number(round(t.doxorubicin_equivalent, 1))} mg/m²"}
    return [row("Before this phase", c.before), row("This phase", c.this_phase), row("After this phase", c.after)]


def _window(orders) -> str | None:
    if orders.window is None:
        return None
    first, last = orders.administrations[0].date, orders.administrations[-1].date
    week = lambda on: (on - orders.start).days // 7 + 1  # noqa: E731
    return (f"this sheet covers weeks {week(orders.window[0])} to {week(min(orders.window[1], orders.end))}: "
            f"{day(max(orders.window[0], orders.start))} to {day(min(orders.window[1], orders.end))} "
            f"(doses from {day(first)} to {day(last)})")


def _tests(orders) -> list[str]:
    if orders.phase.tests is None:
        return []
    return [f"day {t['day']} ({day(orders.day_date(t['day']))}): {t['what']}" for t in orders.phase.tests.value if t["day"] <= orders.last_day]


def _age_text(months: int) -> str:
    return f"{months} month{'s' if months != 1 else ''}"


def _measure(quantity, unit: str) -> str:
    """As written in the patient file, with the metric figure when it was not metric."""
    written_as = f"{number(quantity.magnitude)} {quantity.units:~P}"
    metric = f"{number(round(quantity.m_as(unit), 3))} {unit}"
    return metric if f"{quantity.units:~P}" == unit else f"{metric} (entered as {written_as})"


def _order_blocks(orders, administrations) -> list[dict]:
    """One block per order, in order of first administration; one row per run of equal doses."""
    blocks = {}
    for a in administrations:
        block = blocks.setdefault(id(a.order), {"order": a.order, "rows": {}})
        text = working(a)
        row = block["rows"].setdefault(text, {"administrations": [], "working": text})
        row["administrations"].append(a)
    result = []
    for block in blocks.values():
        order = block["order"]
        rows = []
        for row in block["rows"].values():
            given = row["administrations"]
            first = given[0]
            rows.append({
                "days": day_ranges(a.day for a in given),
                "dates": _dates(given),
                "age": ", ".join(sorted({_age_text(a.age_months) for a in given}, key=lambda t: int(t.split()[0]))),
                "dose": dose_text(first),
                "working": row["working"],
                "tag": weakest(a.provenance for a in given),
            })
        result.append({
            "note": order.note,
            "clock": _clock_text(order),
            "titrated": orders.phase.titrated,
            "drug": order.drug.print_name,
            "generic": order.drug.name,
            "route": ROUTE_TEXT[order.route],
            "route_note": order.route_note,
            "duration": order.duration.value if order.duration else None,
            "window": order.window.value if order.window else None,
            "label": order.drug.label,
            "basis": _basis_text(order),
            "rows": rows,
        })
    return result


def _clock_text(order) -> str | None:
    timing = order.timing
    if timing is None:
        return None
    if timing.after is not None:
        hours = ", ".join(number(h) for h in timing.hours)
        return f"at {hours} hours after each dose of {timing.after[0].replace('_', ' ')}"
    if timing.every_hours is not None:
        return f"every {timing.every_hours} hours, {timing.doses} doses, the first at {timing.first_dose_at} on day {order.days[0]}"
    return f"starting at {timing.first_dose_at}"


def _basis_text(order) -> str:
    if order.age_bands:
        return "fixed dose by age on the day of the lumbar puncture"
    text = "; ".join(f"{written(step.text)} {_days_text(order, step)}" for step in order.steps)
    if order.divided > 1:
        text += f", in {order.divided} divided doses"
    if order.cap:
        cap = order.cap.value
        daily = is_per_day(cap)
        text += f"; maximum {amount(cap * Q(1, 'day') if daily else cap, order.drug.unit)} per {'day' if daily else 'dose'}"
    return text


def _days_text(order, step) -> str:
    """'on days 1–28', or the rule itself ('every 7 days') where the data gives one."""
    rule = order.days_value.value
    if step is order.steps[0] and isinstance(rule, str) and rule.strip().startswith("every"):
        return "daily" if rule.strip() in ("every 1 day", "every 1 days") else rule.strip()
    return f"on day{'s' if len(step.days) > 1 else ''} {day_ranges(step.days)}"


def dose_text(a) -> str:
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


def _dates(administrations) -> str:
    dates = [a.date for a in administrations]
    contiguous = all((b - a).days == 1 for a, b in zip(dates, dates[1:]))
    if len(dates) > 2 and contiguous:
        return f"{short_day(dates[0])} – {short_day(dates[-1])} {dates[-1]:%Y}"
    return ", ".join(short_day(d) for d in dates) + f" {dates[-1]:%Y}"


def _day_by_day(orders, administrations) -> list[dict]:
    days = {}
    for a in administrations:
        entry = days.setdefault(a.day, {"day": a.day, "date": day(a.date), "age": _age_text(a.age_months), "given": []})
        entry["given"].append(f"{a.order.drug.print_name} {dose_text(a)}")
    return [days[d] for d in sorted(days)]


def _punctures(administrations) -> list[dict]:
    """One row per lumbar puncture: the day's INTRATHECAL drugs together."""
    by_day = {}
    for a in administrations:
        entry = by_day.setdefault(a.day, {"day": a.day, "date": day(a.date), "age": _age_text(a.age_months), "drugs": []})
        entry["drugs"].append({
            "drug": a.order.drug.print_name,
            "dose": amount(a.dose, a.order.drug.unit),
            "volume": f"{number(round(decimal(a.volume, 'mL'), 2))} mL" if a.volume is not None else None,
            "product": a.product.form if a.product is not None else None,
            "band": band_text(a.order.age_bands, a.band),
            "tag": a.provenance,
        })
    return [by_day[d] for d in sorted(by_day)]


def _values(orders, administrations) -> list[dict]:
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
            rows[(step.what, _value_text(step.value), step.tag, step.source)] = ["every dose from BSA"]
    for a in administrations:
        # The product a volume is worked from (INTRATHECAL volumes; doses measured by volume).
        if a.product is not None:
            users.setdefault(id(a.product.concentration), (a.product.concentration, []))
            name = f"{a.order.drug.print_name} {a.route} volume"
            if name not in users[id(a.product.concentration)][1]:
                users[id(a.product.concentration)][1].append(name)
    # The same assumption made on several orders (the infant fraction) is one row.
    for value, names in users.values():
        rows.setdefault((value.what, _value_text(value.value), value.tag, value.source), []).extend(names)
    return [
        {"what": what, "used_by": ", ".join(names), "value": text, "tag": tag, "source": source}
        for (what, text, tag, source), names in rows.items()
        if tag in ("A", "?")
    ]


def rounding_rule(orders, administrations) -> str:
    """The footnote on rounding, from the rules the doses on this document used, so it agrees with every line."""
    rounded = [a for a in administrations if a.step is not None]
    if not rounded:
        return "INTRATHECAL doses are fixed by age band: never reduced, never rounded."
    text = "Each dose is rounded half up (never to even) to its product's step; a divided dose is rounded per dose."
    bound = next((a.bound for a in rounded if a.bound is not None), None)
    if bound is not None:
        text += (f" Rounding never moves a dose more than {percent(bound.value)} (HOPA): where the product's step would, "
                 "the dose is measured by volume (the product's concentration × the smallest measurable volume) and the volume is printed.")
    if any(a.parts for a in rounded):
        text += " A dose given in parts: the first part is rounded half up to the step, the last part is the remainder, so the parts add up to the dose."
    if any(a.capped for a in rounded):
        text += " A cap applies to the dose before rounding."
    return text


def _value_text(value) -> str:
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
