"""Axes for the pictures: round tick values (linear, log, dates), their labels, and
the tick marks and words along an axis, written with svg.py's shapes."""

from __future__ import annotations

import datetime as dt
import math
from typing import Callable, Iterable

from markupsafe import Markup

from dosing.pictures.svg import DOTTED, GRID, FONT_PT, Scale, group, line, path, text


def ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round values (1, 2 or 5 times a power of ten apart) within lo..hi."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step) * step
    n = int(math.floor((hi - first) / step + 1e-9)) + 1
    return [round(first + i * step, 10) for i in range(n)]


def log_ticks(lo: float, hi: float) -> list[float]:
    """Every power of ten within lo..hi (and 1-2-5 when the range is under two decades)."""
    low, high = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    mults = (1, 2, 5) if math.log10(hi / lo) <= 2 else (1,)
    out = [m * 10.0 ** p for p in range(low, high + 1) for m in mults]
    return [round(v, 12) for v in out if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)]


def date_ticks(first: dt.date, last: dt.date, count: int = 8) -> list[dt.date]:
    """Mondays (a week or several apart), or first days of months for long spans."""
    days = (last - first).days
    if days > count * 28:  # months
        every = max(1, math.ceil(days / 30.4 / count))
        d, out = dt.date(first.year, first.month, 1), []
        while d <= last:
            if d >= first and (d.month - 1) % every == 0:
                out.append(d)
            d = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
        return out
    weeks = max(1, math.ceil(days / 7 / count))
    d = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    out = []
    while d <= last:
        out.append(d)
        d += dt.timedelta(weeks=weeks)
    return out


def day_label(d: dt.date) -> str:
    """'12 Jan' (the year only on 1 January): short enough for a tick."""
    return d.strftime("%-d %b %Y") if (d.month, d.day) == (1, 1) else d.strftime("%-d %b")


def number(v: float) -> str:
    """A tick's label without trailing zeros (0.05, 2, 1000)."""
    return f"{v:.6g}"


def axis_x(scale: Callable, values: Iterable, *, y: float, label: Callable = None,
           grid_to: float | None = None, title: str | None = None) -> Markup:
    """Ticks and labels along y; `label(value)` gives each tick's words (dates: day_label).
    `grid_to` draws a faint dotted line up to that y for each tick."""
    values = list(values)
    label = label or (day_label if values and isinstance(values[0], dt.date) else number)
    parts = []
    if grid_to is not None:  # the faint lines first, under the ticks and words, as one path
        parts.append(path([(scale(v), grid_to, scale(v), y) for v in values], width=0.3, dash=DOTTED, cls="grid", stroke=GRID))
    for v in values:
        x = scale(v)
        parts.append(line(x, y, x, y + 3, cls="tick", data={"value": v}))
        parts.append(text(x, y + 3 + FONT_PT, label(v), anchor="middle"))
    if title:
        parts.append(text((scale(values[0]) + scale(values[-1])) / 2 if values else 0,
                          y + 5 + 2 * FONT_PT, title, anchor="middle", italic=True))
    return group(parts, cls="axis-x")


def axis_y(scale: Scale, values: Iterable[float], *, x: float, label: Callable = number,
           grid_to: float | None = None, title: str | None = None) -> Markup:
    """Ticks and labels left of x; `title` (the unit) is written above the axis."""
    values = list(values)
    parts = []
    if grid_to is not None:  # the faint lines first, under the ticks and words, as one path
        parts.append(path([(x, scale(v), grid_to, scale(v)) for v in values], width=0.3, dash=DOTTED, cls="grid", stroke=GRID))
    for v in values:
        y = scale(v)
        parts.append(line(x - 3, y, x, y, cls="tick", data={"value": v}))
        parts.append(text(x - 4, y + FONT_PT * 0.35, label(v), anchor="end"))
    if title and values:
        parts.append(text(x, min(scale(v) for v in values) - FONT_PT, title, anchor="middle", italic=True))
    return group(parts, cls="axis-y")
