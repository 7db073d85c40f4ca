"""Cumulative anthracyclines as a picture (issue 19, item 5): the running total by date against the limit.

Drawn beside the order sheet's "Cumulative anthracyclines" table, from the
very doses the table sums (dosing.anthracyclines.doses), so the last step
ends on the table's "After this phase". One panel in doxorubicin equivalents
(mg/m²) against the protocol's limit; for a child under the young-age bound
at the end of the phase (as dosing.findings judges it) a second panel in
mg/kg as given against the label's limit. Each dose is a point (open: an
earlier dose from the patient file; filled: this phase's) with its date, drug
and the running total in its <title>; the limit is a heavy dashed line named
in words; day 1 of the phase a dotted line.
"""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup

from dosing.anthracyclines import doses
from dosing.formatting import number
from dosing.body import age_in_months
from dosing.pictures import axes, svg

PANEL_W, PANEL_H = 256, 100  # pt: two panels side by side fill the sheet's 527 pt width
LEFT, TOP, BOTTOM_ROOM = 40, 42, 26
NAMES = {"daunorubicin": "DAUNOrubicin", "doxorubicin": "DOXOrubicin"}


def picture(orders) -> Markup | None:
    """The panels as one SVG, or None for a phase that gives neither drug."""
    counted = doses(orders)
    if not counted:
        return None
    rules = orders.protocol.anthracyclines
    first = min([d.date for d in counted] + [orders.start])
    last = max([d.date for d in counted] + [orders.end])
    panels = [("Doxorubicin equivalents", "mg/m²", lambda t: t.doxorubicin_equivalent, 1,
               float(rules.limit.value), "protocol")]
    if age_in_months(orders.patient.birth_date, orders.end) < rules.young_below_months:
        panels.append(("As given (no equivalents)", "mg/kg", lambda t: t.mg_per_kg, 2, float(rules.young_limit.value),
                       f"label, under {rules.young_below_months // 12} years"))
    parts = []
    for i, (what, unit, value, places, limit, limit_words) in enumerate(panels):
        parts.append(_panel(i * (PANEL_W + 12), counted, first, last, orders.start, what, unit, value, places,
                            limit, limit_words))
    width = len(panels) * PANEL_W + (len(panels) - 1) * 12
    legend_y = TOP + PANEL_H + BOTTOM_ROOM + 4
    parts.append(svg.group([
        svg.point(LEFT + 4, legend_y - 2.5, filled=False), svg.text(LEFT + 10, legend_y, "earlier dose (patient file)"),
        svg.point(LEFT + 118, legend_y - 2.5), svg.text(LEFT + 124, legend_y, "this phase"),
        svg.line(LEFT + 176, legend_y - 2.5, LEFT + 196, legend_y - 2.5, width=1.6, dash=svg.DASHED),
        svg.text(LEFT + 200, legend_y, "limit"),
        svg.line(LEFT + 226, legend_y - 6, LEFT + 226, legend_y + 1, dash=svg.DOTTED), svg.text(LEFT + 230, legend_y, "day 1"),
    ], cls="legend"))
    return svg.picture(width, legend_y + 4, parts, cls="picture anthracycline-chart",
                       label="Cumulative anthracyclines by date against the limit")


def _panel(x0: float, counted, first: dt.date, last: dt.date, day1: dt.date, what: str, unit: str, value, places: int,
           limit: float, whose: str) -> Markup:
    right, top, bottom = x0 + PANEL_W - 8, TOP, TOP + PANEL_H
    totals, running = [], 0.0
    for dose in counted:  # the running total, summed in the order dosing.anthracyclines sums it
        running += value(dose.total)
        totals.append(running)
    high = max(limit, totals[-1]) * 1.25  # room above the limit for its name
    x = svg.dates(first - dt.timedelta(days=1), last + dt.timedelta(days=1), x0 + LEFT, right)
    y = svg.linear(0, high, bottom, top)
    end = round(totals[-1], places)
    limit_words = f"limit {number(limit)} {unit}"
    # The title says the two numbers the picture is about; inside, the limit line is only named.
    parts = [svg.text(x0 + LEFT, 9, f"{what}, {unit}", bold=True),
             svg.text(x0 + LEFT, 20, f"after this phase: {number(end)} {unit}" + (", PAST THE LIMIT" if totals[-1] > limit else ""), bold=True, cls="total",
                      data={"total": end, "unit": unit}),
             svg.text(x0 + LEFT, 30, f"{limit_words} ({whose})"),
             svg.rect(x0 + LEFT, top, right - x0 - LEFT, bottom - top, fill="none", cls="frame"),
             axes.axis_y(y, axes.ticks(0, high, 4), x=x0 + LEFT, grid_to=right),
             axes.axis_x(x, axes.date_ticks(first, last, 4), y=bottom)]
    parts += [svg.line(x(day1), top, x(day1), bottom, dash=svg.DOTTED, cls="day-1", data={"date": day1}),
              svg.text(x(day1) + 2, bottom - 3, "day 1", white_behind=True)]
    parts += [svg.line(x0 + LEFT, y(limit), right, y(limit), width=1.6, dash=svg.DASHED, cls="limit",
                       title=f"{limit_words} ({whose})", data={"value": limit, "unit": unit}),
              svg.text(x0 + LEFT + 3, y(limit) - 3, "limit", bold=True, white_behind=True)]
    steps = svg.step_points([(x(first - dt.timedelta(days=1)), y(0))] + [(x(d.date), y(t)) for d, t in zip(counted, totals)],
                            end_x=x(last + dt.timedelta(days=1)))
    parts.append(svg.polyline(steps, width=1.4, cls="running-total"))
    for dose, total in zip(counted, totals):
        this = round(value(dose.total), places)
        words = (f"{dose.date.isoformat()}: {NAMES.get(dose.drug, dose.drug)} {number(this)} {unit}"
                 f"{' (patient file)' if dose.earlier else ''}; running total {number(round(total, places))} {unit}")
        parts.append(svg.point(x(dose.date), y(total), filled=not dose.earlier, size=2.4, cls="dose", title=words,
                               # data-*: four places, for tests to compare with hand-worked sums; the title as the table rounds
                               data={"date": dose.date, "drug": dose.drug, "dose": round(value(dose.total), 4),
                                     "total": round(total, 4),
                                     "unit": unit, "earlier": "yes" if dose.earlier else "no"}))
    return svg.group(parts, cls="panel", data={"unit": unit, "limit": limit})
