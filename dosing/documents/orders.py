"""The order sheet and the INTRATHECAL sheet: one block per order, the days, the punctures.

Orders are split by route before they get here (dosing.documents.documents),
so an INTRATHECAL order and an IV vinca alkaloid can never share a page.
Everything is text already formatted; templates/orders.html and
templates/intrathecal.html lay it out.
"""

from dosing.criteria import MET, NO_RESULT, NOT_MET, NOT_SET
from dosing.adjustments import counts_text
from dosing.documents.phrases import age_text, dose_text
from dosing.documents.wording import egfr_text
from dosing.dose import decimal
from dosing.formatting import amount, band_text, day, day_ranges, number, percent, short_day, working, written
from dosing.regimen import weakest
from dosing.regimen.criteria import criterion_text, measured_text
from dosing.units import Q, is_per_day

ROUTE_TEXT = {
    "IV": "intravenous (IV)",
    "PO": "by mouth (PO)",
    "IM": "intramuscular (IM)",
    "SC": "subcutaneous (SC)",
    "INTRATHECAL": "INTRATHECAL",
}


def order_blocks(orders, administrations) -> list[dict]:
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
                "age": ", ".join(sorted({age_text(a.age_months) for a in given}, key=lambda t: int(t.split()[0]))),
                "dose": dose_text(first),
                "working": row["working"],
                "tag": weakest(a.provenance for a in given),
            })
        result.append({
            "note": order.note,
            "clock": _clock_text(order),
            "titrated": orders.phase.titrated,
            "titration": titration_text(orders, order),
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


def titration_text(orders, order) -> str | None:
    """The maintenance line the counts decided (dosing.adjustments), instead of a blank "give ___ %":
    the percentage and the counts that decided it, or 100 % without counts, and the table as the data hold it."""
    decided = orders.adjusted
    titrated = decided.titrated if decided is not None else None
    if titrated is None or f"{order.drug.print_name} {order.route}" not in titrated.subjects:
        return None
    rule = titrated.rule
    bands = "; ".join(f"from {number(b.threshold)}: {percent(b.factor)}" for b in rule.levels)
    table = (f"Table (white cells × 10⁹/L, tag {rule.bands.tag}{': a placeholder the centre sets' if rule.bands.tag == '?' else ''}): "
             f"{bands}; hold below neutrophils {number(rule.floor)} × 10⁹/L (tag {rule.neutrophil_floor.tag}); "
             "docs/reference.md §12.")
    if titrated.factor is None:
        return (f"Titrated to blood counts: no white count within {decided.within_days} days before {decided.first:%d %b %Y}, "
                f"so 100 % of the protocol dose. {table}")
    return f"Titrated to blood counts: give {percent(titrated.factor)} of the protocol dose ({counts_text(titrated)}). {table}"


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


def _dates(administrations) -> str:
    dates = [a.date for a in administrations]
    contiguous = all((b - a).days == 1 for a, b in zip(dates, dates[1:]))
    if len(dates) > 2 and contiguous:
        return f"{short_day(dates[0])} – {short_day(dates[-1])} {dates[-1]:%Y}"
    return ", ".join(short_day(d) for d in dates) + f" {dates[-1]:%Y}"


def day_by_day(administrations) -> list[dict]:
    days = {}
    for a in administrations:
        entry = days.setdefault(a.day, {"day": a.day, "date": day(a.date), "age": age_text(a.age_months), "given": []})
        entry["given"].append(f"{a.order.drug.print_name} {dose_text(a)}")
    return [days[d] for d in sorted(days)]


def punctures(administrations) -> list[dict]:
    """The INTRATHECAL sheet: one row per lumbar puncture, the day's INTRATHECAL drugs together."""
    by_day = {}
    for a in administrations:
        entry = by_day.setdefault(a.day, {"day": a.day, "date": day(a.date), "age": age_text(a.age_months), "drugs": []})
        entry["drugs"].append({
            "drug": a.order.drug.print_name,
            "dose": amount(a.dose, a.order.drug.unit),
            "volume": f"{number(round(decimal(a.volume, 'mL'), 2))} mL" if a.volume is not None else None,
            "product": a.product.form if a.product is not None else None,
            "band": band_text(a.order.age_bands, a.band),
            "tag": a.provenance,
        })
    return [by_day[d] for d in sorted(by_day)]


def start_criteria(orders) -> dict | None:
    """The order sheet's Start criteria box: each criterion, the result that decided it, when it was taken, met.

    A criterion with no result in the window is a row to fill by hand with an empty tick box; one whose
    threshold the centre has not set shows the result beside the blank (dosing.criteria).
    """
    finding = next((f for f in orders.findings if f.code == "start criteria"), None)
    if finding is None:
        return None
    facts = finding.facts
    override = next((f.facts.reason for f in orders.findings if f.code == "results override"), None)
    rows = []
    for c in facts.checked:
        row = {"criterion": criterion_text(c.criterion), "tag": c.criterion.value.tag, "status": c.status.replace(" ", "-"),
               "result": "", "taken": "", "met": "", "tick": c.status in (NO_RESULT, NOT_SET)}
        if c.result is not None:
            taken = c.result.taken
            row["taken"] = day(taken.date()) + (f" {taken:%H:%M}" if c.result.time_known else "")
            row["result"] = (f"{measured_text(c.value)} ({c.result.field})" if c.egfr is None else
                             f"{egfr_text(c)} from creatinine {measured_text(c.result.value)} ({c.result.field})")
        row["met"] = {MET: "yes", NOT_MET: "NO – results override" if override else "NO", NO_RESULT: "",
                      NOT_SET: "compare with the centre's threshold"}[c.status]
        rows.append(row)
    within = facts.within_days.value
    return {
        "window": (f"The latest result of each test taken from {day(facts.earliest)} to day 1, {day(facts.start)} "
                   f"({within} days before day 1; tag {facts.within_days.tag}). A row without a result: write it in and tick the box "
                   "before day 1."),
        "rows": rows,
        "override": override,
    }


def rounding_rule(administrations) -> str:
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
