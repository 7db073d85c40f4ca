"""The plan as a timeline (issue 19, item 1): each phase a bar over its estimated dates.

One row per phase, in the order of the plan (dosing.pathway.with_dates), on
one date axis; a referral (HSCT) has no end date and is drawn open to the
right. Today is a solid vertical line; the point where the risk group
changed is a long-dashed line, and the phases after it are hatched; the
result still awaited is an open diamond on its own row, with the dotted "?"
of what it decides. Estimated dates only: the plan's table stays beside it.
"""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup

from dosing.pictures import axes, svg

WIDTH = 520           # pt: the sheet's text width (A4 less 2 x 12 mm) is 527 pt
LEFT, RIGHT = 84, 496  # the date axis; phase names to the left of it
TOP = 30              # room for the today and risk-group labels
ROW, GAP = 12, 5
OPEN_DAYS = 21        # how far an open-ended referral is drawn past its start at least

# The day of a result the plan can await, counted from the start of induction (day 1).
_AWAITED_DAY = {"day36": 36}


def awaited_date(plan) -> dt.date | None:
    """When the awaited result is due, by the estimated dates: the day-36 MRD on day 36 of
    induction, the MRD after HR1 at the end of HR1, anything else at the end of the last phase."""
    if plan.awaiting is None or not plan.steps:
        return None
    timepoint = plan.awaiting.split()[0]
    if timepoint in _AWAITED_DAY:
        return plan.steps[0].start + dt.timedelta(days=_AWAITED_DAY[timepoint] - 1)
    after = timepoint.removeprefix("after_")
    for step in plan.steps:
        if step.phase == after and step.end is not None:
            return step.end
    return plan.steps[-1].end or plan.steps[-1].start


def risk_change(plan, protocol) -> int | None:
    """The index of the first step of the high-risk path the results moved to, or None."""
    if plan.current_risk == plan.initial_risk:
        return None
    first = len(plan.phases) - len(protocol.pathway.high_risk.value)
    return first if 0 < first < len(plan.steps) else None


def _vertical(x: float, y_top: float, y_bottom: float, words: str, label_y: float, *, dash, cls: str,
              data: dict, title: str, width: float) -> list[Markup]:
    """A full-height marker line with its words at label_y, to the right of it unless they would run off the picture."""
    right = _fits_right(x + 3, words)
    return [svg.line(x, y_top, x, y_bottom, width=width, dash=dash, cls=cls, data=data, title=title),
            svg.text(x + 3 if right else x - 3, label_y, words, anchor="start" if right else "end",
                     bold=True, white_behind=True, cls=cls + "-label")]


def _fits_right(x: float, words: str) -> bool:
    """Bold words starting at x end inside the picture (DejaVu Sans Bold averages about 0.62 em a character)."""
    return x + len(words) * svg.FONT_PT * 0.62 < WIDTH - 2


def timeline(plan, protocol, today: dt.date) -> Markup:
    """The plan (with its estimated dates) as an SVG picture; `today` marked."""
    steps = [s for s in plan.steps if s.start is not None]
    awaited = awaited_date(plan)
    changed = risk_change(plan, protocol)
    extra_rows = int(awaited is not None) + int(plan.off_protocol)
    days = [today] + [s.start for s in steps] + [s.end for s in steps if s.end] + ([awaited] if awaited else [])
    if plan.off_protocol and steps:  # room after the last phase for the stop block
        days.append((steps[-1].end or steps[-1].start) + dt.timedelta(days=4))
    first, last = min(days), max(days)
    referral = False
    for s in steps:
        if s.end is None:  # a referral: open to the right, at least OPEN_DAYS long
            last = max(last, s.start + dt.timedelta(days=OPEN_DAYS))
            referral = True
    if awaited is not None:
        last = max(last, awaited + dt.timedelta(days=OPEN_DAYS))
    pad = dt.timedelta(days=max(2, (last - first).days // 40))
    first, last = first - pad, last + pad
    x = svg.dates(first, last, LEFT, RIGHT)
    rows = len(steps) + extra_rows
    bottom = TOP + rows * (ROW + GAP)
    height = bottom + 44

    parts = [svg.rect(LEFT, TOP - GAP, RIGHT - LEFT, bottom - TOP + GAP, fill="none", stroke="#000", cls="frame"),
             axes.axis_x(x, axes.date_ticks(first, last), y=bottom, grid_to=TOP - GAP,
                         title="estimated dates (the table gives them exactly)")]
    labels = []
    for i, step in enumerate(steps):
        y = TOP + i * (ROW + GAP)
        after_change = changed is not None and i >= changed
        x0 = x(step.start)
        parts.append(svg.text(LEFT - 4, y + ROW * 0.75, step.phase, anchor="end", bold=after_change))
        if step.end is None:
            x1 = RIGHT  # open: to the edge of the axis, whatever date that is, and an arrow past it
            parts.append(svg.rect(x0, y, x1 - x0, ROW, fill=svg.DOTS, dash=svg.DASHED, cls="bar open",
                                  title=f"{step.phase}: referral from {step.start.isoformat()}, no end date",
                                  data={"phase": step.phase, "start": step.start, "end": "", "open": "yes"}))
            parts.append(svg.text(x1 + 1, y + ROW * 0.75, "→", bold=True))
            labels.append(svg.text(x0 + 3, y + ROW * 0.75, "referral, no end date", white_behind=True))
            continue
        # A day is drawn as the whole day: from its start to the next day's start.
        x1 = x(step.end + dt.timedelta(days=1))
        parts.append(svg.rect(x0, y, max(x1 - x0, 2), ROW, fill=svg.HATCH if after_change else svg.WHITE,
                              cls="bar", title=f"{step.phase}: {step.start.isoformat()} to {step.end.isoformat()} (estimated)",
                              data={"phase": step.phase, "start": step.start, "end": step.end}))
    # Lines over the bars, words over the lines (each on a white box).
    if changed is not None:
        cx = x(steps[changed].start)
        decided_by = steps[changed - 1].phase
        words = (f"risk group {plan.initial_risk} → {plan.current_risk} "
                 f"({'day-36 MRD' if decided_by == 'induction' else 'MRD after ' + decided_by})")
        parts += _vertical(cx, TOP - 16, bottom, words, TOP - 18 + svg.FONT_PT, dash=svg.LONG_DASH, cls="risk-change",
                           data={"from": plan.initial_risk, "to": plan.current_risk, "date": steps[changed].start},
                           title=f"Risk group {plan.initial_risk} to {plan.current_risk} from {steps[changed].start.isoformat()}",
                           width=1.4)
    parts += _vertical(x(today), 2, bottom, f"today {today:%-d %b %Y}", 2 + svg.FONT_PT, dash=svg.SOLID, cls="today",
                       data={"date": today}, title=f"Today, {today.isoformat()}", width=2)
    row = len(steps)
    if awaited is not None:
        parts += _awaited(plan.awaiting, awaited, x(awaited), TOP + row * (ROW + GAP) + ROW / 2)
        row += 1
    if plan.off_protocol and steps:
        y = TOP + row * (ROW + GAP)
        sx = x((steps[-1].end or steps[-1].start) + dt.timedelta(days=1))
        parts += [svg.rect(sx, y, 4, ROW, fill="#000", cls="off-protocol", title="Off protocol: nothing further is planned",
                           data={"date": steps[-1].end or steps[-1].start}),
                  _off_words(sx, y + ROW * 0.75)]
    parts += labels
    parts.append(_legend(bottom + 32, changed is not None, referral))
    return svg.picture(WIDTH, height, parts, label="The plan as a timeline: each phase over its estimated dates",
                       cls="picture plan-timeline")


def _off_words(x: float, y: float) -> Markup:
    words = "OFF PROTOCOL: nothing further is planned"
    right = _fits_right(x + 7, words)
    return svg.text(x + 7 if right else x - 3, y, words, anchor="start" if right else "end", bold=True, white_behind=True)


def _awaited(result: str, due: dt.date, ax: float, y: float) -> list[Markup]:
    """The awaited result's row: an open diamond on its estimated date, a dotted line of what is not known yet."""
    words = f"awaiting the {result.replace('day36', 'day-36')}"
    fits_right = RIGHT - ax > len(words) * svg.FONT_PT * 0.62 + 12
    return [svg.text(LEFT - 4, y + ROW * 0.25, "next: ?", anchor="end", bold=True),
            svg.line(ax, y, RIGHT, y, width=1.2, dash=svg.DOTTED, cls="unknown"),
            svg.point(ax, y, shape="diamond", size=3.5, filled=False, cls="awaiting",
                      title=f"Awaiting the {result}, due about {due.isoformat()}", data={"result": result, "date": due}),
            svg.text(ax + 7 if fits_right else ax - 7, y - 4 if fits_right else y + ROW * 0.25, words,
                     anchor="start" if fits_right else "end", bold=True, white_behind=True)]


def _legend(y: float, hatched: bool, referral: bool) -> Markup:
    """The key, in words and the same fills as the bars."""
    keys = [(svg.WHITE, svg.SOLID, "phase (estimated dates)")]
    if hatched:
        keys.append((svg.HATCH, svg.SOLID, "after the risk group changed"))
    if referral:
        keys.append((svg.DOTS, svg.DASHED, "referral, no end date"))
    parts, at = [], LEFT
    for fill, dash, words in keys:
        parts += [svg.rect(at, y - 7, 14, 8, fill=fill, dash=dash), svg.text(at + 18, y, words)]
        at += 30 + len(words) * 3.6
    parts += [svg.line(at, y - 8, at, y + 1, width=2), svg.text(at + 4, y, "today")]
    return svg.group(parts, cls="legend")
