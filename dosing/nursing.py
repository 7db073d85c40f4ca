"""The nurse's documents: the phase calendar and the bedside administration record.

Both are built from the same computed PhaseOrders as the order sheets, so a
dose can never read differently on the ward than in the pharmacy. The
calendar is a schedule to hang by the cot, not an order: it shows every
administration of the phase, INTRATHECAL ones boxed apart in their day. The
record has one row per dose to sign; INTRATHECAL doses are on their own pages.
"""

from datetime import timedelta

from dosing.formatting import amount, number
from dosing.order_sheet import times_a_day

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def drug_name(order) -> str:
    """The printed name, with the generic name beside it where they differ beyond letter case."""
    printed, generic = order.drug.print_name, order.drug.name.replace("_", " ")
    return printed if printed.lower() == generic else f"{printed} ({generic})"


def _entry(a) -> dict:
    unit = a.order.drug.unit
    if a.order.continuous:
        text = f"{drug_name(a.order)} {amount(a.total, unit)} a day, continuous"
        kind = "infusion"
    else:
        text = f"{drug_name(a.order)} {amount(a.dose, unit)} {a.route}"
        if a.times:
            text += " at " + ", ".join(t.strftime("%H:%M") for t in a.times)
        elif a.times_per_day > 1:
            text += f" {times_a_day(a.times_per_day)}"
        kind = "intrathecal" if a.route == "INTRATHECAL" else "systemic"
    return {"text": text, "kind": kind}


def calendar(orders) -> dict:
    """Weeks of days, Monday first, each day with everything due on it."""
    first = orders.administrations[0].date
    last = orders.administrations[-1].date
    if orders.window is None:
        first, last = orders.start, max(orders.end, last)
    bags_by_date = {}
    for bag in orders.bags:
        bags_by_date.setdefault(bag.start.date(), []).append(f"bag {bag.number} up {bag.start:%H:%M}: {number(bag.rate.m_as('mL/hour'))} mL/h")
    tests = {orders.day_date(t["day"]): t["what"] for t in (orders.phase.tests.value if orders.phase.tests else [])}
    by_date = {}
    for a in orders.administrations:
        by_date.setdefault(a.date, []).append(_entry(a))
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        week = []
        for offset in range(7):
            on = monday + timedelta(days=offset)
            inside = first <= on <= last
            day_number = (on - orders.start).days + 1
            entries = by_date.get(on, []) if inside else []
            week.append({
                "date": on.isoformat(),
                "label": f"{on.day} {on:%b}",
                "day": day_number if inside and 1 <= day_number <= orders.last_day else None,
                "systemic": [e["text"] for e in entries if e["kind"] == "systemic"],
                "intrathecal": [e["text"] for e in entries if e["kind"] == "intrathecal"],
                "infusion": [e["text"] for e in entries if e["kind"] == "infusion"],
                "bags": bags_by_date.get(on, []) if inside else [],
                "test": tests.get(on) if inside else None,
                "inside": inside,
            })
        weeks.append({"number": (monday - (orders.start - timedelta(days=orders.start.weekday()))).days // 7 + 1, "days": week})
        monday += timedelta(days=7)
    return {"weekdays": WEEKDAYS, "weeks": weeks, "criteria": orders.phase.start_criteria.value if orders.phase.start_criteria else None}


def record(orders) -> dict:
    """One row per dose to give and sign, systemic first, then INTRATHECAL on their own pages.

    "planned" is a clock time only where the protocol sets one (Administration.times), or
    "all day" for a continuous infusion. Where it sets none (dexamethasone three times a
    day) the box is left for the ward to write its own times - the tool never invents a
    clock - and "which" says which of the day's doses the row is ("dose 1 of 3"), printed
    in the drug cell, so a count can never be read as a time or an amount.
    """
    systemic, spinal = [], []
    rank = {id(order): n for n, order in enumerate(orders.phase.orders)}
    for a in orders.administrations:
        unit = a.order.drug.unit
        duration = a.order.duration.value if a.order.duration else ""
        if a.order.continuous:
            rows = [("all day", f"{amount(a.total, unit)} a day", "")]
        elif a.times:
            rows = [(t.strftime("%H:%M"), amount(a.dose, unit), "") for t in a.times]
        else:
            count = a.times_per_day
            rows = [("", amount(a.dose, unit), f"dose {i} of {count}" if count > 1 else "") for i in range(1, count + 1)]
        for number_in_day, (planned, dose, which) in enumerate(rows):
            row = {"date": a.date.isoformat(), "weekday": f"{a.date:%a}", "day": a.day, "planned": planned, "which": which,
                   "drug": drug_name(a.order), "dose": dose, "route": a.route, "duration": duration}
            key = (row["date"], planned if planned[:1].isdigit() else "", rank.get(id(a.order), len(rank)), number_in_day)
            (spinal if a.route == "INTRATHECAL" else systemic).append((key, row))
    for b in orders.bags:
        row = {"date": b.start.date().isoformat(), "weekday": f"{b.start:%a}", "day": (b.start.date() - orders.start).days + 1,
               "planned": b.start.strftime("%H:%M"), "which": "", "drug": f"bag {b.number}: blinatumomab", "dose": amount(b.dose, "mcg"),
               "route": "IV", "duration": f"{number(b.hours)} hours at {number(b.rate.m_as('mL/hour'))} mL per hour; never flush"}
        systemic.append(((row["date"], row["planned"], len(rank), b.number), row))
    # On each date the doses without a clock come first, in the protocol's order of drugs and
    # dose 1, 2, 3 of each; then the timed ones by clock time, drugs at the same time in the
    # protocol's order (cyclophosphamide before the mesna that goes with it).
    systemic = [row for _, row in sorted(systemic, key=lambda pair: pair[0])]
    spinal = [row for _, row in sorted(spinal, key=lambda pair: pair[0])]
    return {"rows": systemic, "spinal": spinal}
