"""The phase calendar: a schedule to hang by the cot, not an order.

Built from the same computed PhaseOrders as the order sheets, so a dose can
never read differently on the ward than in the pharmacy. It shows every
administration of the phase, INTRATHECAL ones boxed apart in their day, the
bags going up and the tests.
"""

from datetime import timedelta

from dosing.documents.phrases import drug_name, times_a_day
from dosing.formatting import amount, number

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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


