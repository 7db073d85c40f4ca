"""Blinatumomab's course as a strip on the nurse's bag schedule (issue 19, item 4).

The whole course from the first bag to the last, to scale in hours: each bag
a box with its number (neighbours told apart by a white or dotted fill), a
triangle under each bag change, and after an interruption (`dosing
blinatumomab-resume`) the hours given before the stop in grey and the
interruption itself a hatched gap, labelled with its length. The bags drawn
are the schedule's own (PhaseOrders.bags, the bags the table below it
lists); the stop and restart are the resumption's (the "resumption" finding
the resumed sheet carries). Each bag and each change carries its hours from
the start of the course and its clock time in a <title> and data-* attributes.
"""

import math
from datetime import datetime, timedelta

import attrs

from dosing.pictures import svg

WIDTH, HEIGHT = 520, 74
LEFT, RIGHT, TOP = 8, 8, 16
BAR = 22  # the strip's height


@attrs.frozen
class Course:
    """The course as the strip draws it: hours counted from the start of the course (the first bag ever hung)."""

    start: datetime
    bags: tuple  #: dosing.bags.Bag, as the schedule lists them
    stopped: datetime | None = None  #: the interruption, where this schedule follows one
    restart: datetime | None = None
    new_course: bool = False

    def hour(self, when: datetime) -> float:
        return (when - self.start).total_seconds() / 3600

    @property
    def end(self) -> datetime:
        return self.bags[-1].end


def course(orders) -> Course | None:
    """The course of the bags on this sheet, with the interruption they follow if any; None without bags."""
    if not orders.bags:
        return None
    first = orders.bags[0].start
    resumed = next((f.facts.result for f in orders.findings if f.code == "resumption"), None)
    if resumed is None:
        return Course(first, tuple(orders.bags))
    stopped = first - resumed.interruption
    return Course(stopped - timedelta(hours=resumed.infused_hours), tuple(orders.bags), stopped, first, resumed.new_course)


def _clock(when: datetime) -> str:
    return f"{when:%a %-d %b %H:%M}"


def _hours(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def strip(orders):
    """The strip's <svg> (markupsafe.Markup), or None for a sheet without bags."""
    c = course(orders)
    if c is None:
        return None
    span = c.hour(c.end)
    x = svg.linear(0, span, LEFT, WIDTH - RIGHT)
    bottom = TOP + BAR
    parts = []
    if c.stopped is not None:
        given, gap = c.hour(c.stopped), c.hour(c.restart) - c.hour(c.stopped)
        parts.append(svg.rect(x(0), TOP, x(given) - x(0), BAR, fill=svg.GREY, cls="given",
                              title=f"given before the stop: {_hours(given)} h, {_clock(c.start)} to {_clock(c.stopped)}",
                              data={"from-hour": 0.0, "to-hour": given}))
        parts.append(svg.text((x(0) + x(given)) / 2, TOP + BAR / 2 + 2.5, f"given {_hours(given)} h", anchor="middle", size=6.5))
        parts.append(svg.rect(x(given), TOP, x(given + gap) - x(given), BAR, fill=svg.HATCH, dash=svg.DASHED, cls="interruption",
                              title=f"interrupted {_hours(gap)} h: stopped {_clock(c.stopped)}, restarted {_clock(c.restart)}",
                              data={"from-hour": given, "to-hour": given + gap}))
        said = f"STOPPED {_hours(gap)} h" + (": new course" if c.new_course else "")
        parts.append(svg.text((x(given) + x(given + gap)) / 2, TOP - 4, said, anchor="middle", bold=True, size=7, white_behind=True))
    for i, bag in enumerate(c.bags):
        start, end = c.hour(bag.start), c.hour(bag.end)
        parts.append(svg.rect(x(start), TOP, x(end) - x(start), BAR, fill=svg.WHITE if i % 2 == 0 else svg.DOTS, cls="bag",
                              title=f"bag {bag.number}: up {_clock(bag.start)}, down {_clock(bag.end)} ({_hours(bag.hours)} h)",
                              data={"bag": bag.number, "from-hour": start, "to-hour": end}))
        parts.append(svg.text((x(start) + x(end)) / 2, TOP + BAR / 2 + 2.5, str(bag.number), anchor="middle", size=6.5, bold=True,
                              white_behind=True))
        if i > 0 or c.stopped is not None:  # a bag goes up: a change (or the restart), marked under the strip
            parts.append(svg.point(x(start), bottom + 4, shape="triangle", size=2.4, cls="change",
                                   title=f"{'restart' if i == 0 else 'bag change'} at {_hours(start)} h: {_clock(bag.start)}",
                                   data={"hour": start, "bag": bag.number}))
    every = max(1, math.ceil(span / 24 / 10))  # at most about 10 dates along the strip (each word costs layout time)
    for day in range(0, int(span // 24) + 1):
        hour = 24.0 * day
        parts.append(svg.line(x(hour), bottom, x(hour), bottom + 2, width=0.5, cls="day", data={"hour": hour}))
        if day % every == 0:
            parts.append(svg.text(x(hour), bottom + 15, f"{c.start + timedelta(hours=hour):%-d %b}", anchor="middle", size=6))
    parts.append(svg.text(WIDTH / 2, HEIGHT - 3, f"first bag up {_clock(c.start)} · ▲ a bag goes up · last bag down {_clock(c.end)} "
                                                 f"({_hours(span)} h later, to scale) · a tick each day at {c.start:%H:%M}",
                          anchor="middle", size=6, italic=True))
    return svg.picture(WIDTH, HEIGHT, parts, label="The blinatumomab course, bag by bag", cls="picture infusion")
