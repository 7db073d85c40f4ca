"""The bedside administration record: one row per dose to give and sign.

Built from the same computed PhaseOrders as the order sheets; INTRATHECAL
doses are on their own pages.
"""

from dosing.documents.phrases import drug_name
from dosing.formatting import amount, number


def record(orders) -> dict:
    """One row per dose to give and sign, systemic first, then INTRATHECAL on their own pages.

    "planned" is a clock time only where the protocol sets one (Administration.times), or
    "all day" for a continuous infusion. Where it sets none (dexamethasone three times a
    day) the box is left for the ward to write its own times - the tool never invents a
    clock - and "which" says which of the day's doses the row is ("dose 1 of 3"), printed
    in the drug cell, so a count can never be read as a time or an amount. Its spaces do not
    break ("dose 1 of 3" moves to the next line whole, under a long name): the record then needs
    no line break element in each such row, which WeasyPrint would lay out as one more box.
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
            rows = [("", amount(a.dose, unit), f"dose\u00a0{i}\u00a0of\u00a0{count}" if count > 1 else "") for i in range(1, count + 1)]
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
