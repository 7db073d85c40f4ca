"""Small pure functions that write SVG text for the sheets' pictures (issue 19).

No drawing library: a picture here is a few dozen rectangles, lines and words,
and writing them as text costs nothing at import (the JSON path never imports
this package) and keeps every drawn value readable by the tests.

How to use it (one user unit is one typographic point, so font sizes and
stroke widths mean what they mean in templates/sheet.css):

    from dosing.pictures import axes, svg

    x = svg.dates(first_day, last_day, 60, 480)      # date -> x position
    y = svg.log(0.01, 1000, 150, 10)                 # value -> y (upwards)
    parts = [
        axes.axis_x(x, axes.date_ticks(first_day, last_day), y=150),
        axes.axis_y(y, axes.log_ticks(0.01, 1000), x=60, title="µmol/L"),
        svg.line(60, y(0.2), 480, y(0.2), dash=svg.DASHED, title="Stop: 0.2 µmol/L"),
        svg.point(x(day), y(level), title=f"{level} µmol/L at {hour} h",
                  data={"value": level, "hour": hour}),
        svg.text(62, y(0.2) - 2, "stop rescue below 0.2"),
    ]
    picture = svg.picture(500, 170, parts, label="Methotrexate levels")

`picture` returns markupsafe.Markup: put it straight into a Jinja template
(`{{ picture }}`). Axes and their ticks are in axes.py. Every string that came from data (a name, a phase, a title)
is escaped here, so never build markup yourself with f-strings around data.

Black and white first: tell things apart with fills from PATTERNS
(`fill=svg.HATCH` etc.), dashes (DASHED, DOTTED) and words, never colour alone.
Each drawn value carries a `<title>` (shown on hover in a browser, ignored by
the PDF) and data-* attributes: tests parse the SVG with xml.etree and read the
values back (`svg.NS` is the namespace to search with).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Callable, Iterable, Mapping

from markupsafe import Markup, escape

NS = {"svg": "http://www.w3.org/2000/svg"}

#: Text size in points: the sheets' smallest printed words (table.record th,
#: legend) are 7-7.5 pt, so a picture's labels read at the same size.
FONT_PT = 7
FONT_FAMILY = "DejaVu Sans, sans-serif"  # the sheets' font (sheet.css `html`)
STROKE = 0.8  # pt, the sheets' table and box borders
GRID = "#888"  # grid lines: grey so they never pass for a drawn line

# Dash patterns (stroke-dasharray), told apart without colour.
SOLID = None
DASHED = "4 2"
DOTTED = "1 1.5"
LONG_DASH = "8 3"

# Fills by pattern: url(#id) of the <pattern>s that `picture` defines.
WHITE = "#fff"
GREY = "#d9d9d9"   # a light solid fill, still distinct from white in print
HATCH = "url(#pic-hatch)"       # diagonal lines
CROSS = "url(#pic-cross)"       # cross-hatch
DOTS = "url(#pic-dots)"

_PATTERNS = Markup(
    '<defs>'
    '<pattern id="pic-hatch" width="4" height="4" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="4" height="4" fill="#fff"/>'
    '<line x1="0" y1="0" x2="0" y2="4" stroke="#000" stroke-width="0.8"/></pattern>'
    '<pattern id="pic-cross" width="4" height="4" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="4" height="4" fill="#fff"/>'
    '<path d="M0 0V4M0 0H4" stroke="#000" stroke-width="0.6"/></pattern>'
    '<pattern id="pic-dots" width="3" height="3" patternUnits="userSpaceOnUse">'
    '<rect width="3" height="3" fill="#fff"/><circle cx="1.5" cy="1.5" r="0.6" fill="#000"/></pattern>'
    '</defs>'
)

Scale = Callable[[float], float]


# ---- scales: value -> position ------------------------------------------------

def linear(lo: float, hi: float, start: float, end: float) -> Scale:
    """lo..hi onto start..end (end < start for a y axis that grows upwards)."""
    if hi == lo:
        hi = lo + 1  # a single value: draw it at `start` rather than divide by zero
    return lambda v: start + (float(v) - lo) * (end - start) / (hi - lo)


def log(lo: float, hi: float, start: float, end: float) -> Scale:
    """A base-10 log scale; values must be above zero (a level of 0 has no place on it)."""
    if lo <= 0 or hi <= 0:
        raise ValueError(f"a log scale needs values above 0, got {lo}..{hi}")
    inner = linear(math.log10(lo), math.log10(hi), start, end)

    def scale(v: float) -> float:
        if v <= 0:
            raise ValueError(f"a log scale cannot place {v}")
        return inner(math.log10(v))
    return scale


def dates(first: dt.date, last: dt.date, start: float, end: float) -> Callable[[dt.date], float]:
    """A date axis, one day the same width everywhere; a day is drawn at its start."""
    inner = linear(first.toordinal(), last.toordinal(), start, end)
    return lambda d: inner(d.toordinal())


# ---- shapes --------------------------------------------------------------------

def _n(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


_DATA_KEY = re.compile(r"^[a-z][a-z0-9-]*$")


def _attrs(attrs: Mapping[str, object], data: Mapping[str, object] | None, cls: str | None) -> Markup:
    out = []
    items = dict(attrs)
    if cls:
        items["class"] = cls
    for key, value in (data or {}).items():
        if not _DATA_KEY.match(key):
            raise ValueError(f"data attribute name {key!r}: use lower-case letters, digits and '-'")
        items[f"data-{key}"] = value
    for key, value in items.items():
        if value is None:
            continue
        if isinstance(value, float):  # positions to 0.01 pt; a data value as given (up to 10 digits)
            value = format(value, ".10g") if key.startswith("data-") and key not in ("data-x", "data-y") else _n(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out.append(Markup(' {}="{}"').format(Markup(key), value))  # format() escapes value
    return Markup("").join(out)


def _element(tag: str, attrs: Mapping[str, object], title: str | None = None,
             data: Mapping[str, object] | None = None, cls: str | None = None,
             body: str | Markup | None = None) -> Markup:
    inner = Markup("")
    if title is not None:
        inner += Markup("<title>{}</title>").format(title)
    if body is not None:
        inner += escape(body)
    attributes = _attrs(attrs, data, cls)
    if not inner:
        return Markup("<{}{}/>").format(Markup(tag), attributes)
    return Markup("<{0}{1}>{2}</{0}>").format(Markup(tag), attributes, inner)


def rect(x: float, y: float, width: float, height: float, *, fill: str = WHITE,
         stroke: str = "#000", dash: str | None = SOLID, title: str | None = None,
         data: Mapping[str, object] | None = None, cls: str | None = None) -> Markup:
    return _element("rect", {"x": float(x), "y": float(y), "width": float(max(width, 0)),
                             "height": float(max(height, 0)), "fill": fill, "stroke": stroke,
                             "stroke-width": STROKE, "stroke-dasharray": dash}, title, data, cls)


def line(x1: float, y1: float, x2: float, y2: float, *, width: float = STROKE,
         dash: str | None = SOLID, stroke: str = "#000", title: str | None = None,
         data: Mapping[str, object] | None = None, cls: str | None = None) -> Markup:
    return _element("line", {"x1": float(x1), "y1": float(y1), "x2": float(x2), "y2": float(y2),
                             "stroke": stroke, "stroke-width": float(width),
                             "stroke-dasharray": dash}, title, data, cls)


def polyline(points: Iterable[tuple[float, float]], *, width: float = 1.2,
             dash: str | None = SOLID, title: str | None = None,
             data: Mapping[str, object] | None = None, cls: str | None = None) -> Markup:
    coords = " ".join(f"{_n(float(x))},{_n(float(y))}" for x, y in points)
    return _element("polyline", {"points": coords, "fill": "none", "stroke": "#000",
                                 "stroke-width": float(width), "stroke-dasharray": dash},
                    title, data, cls)


def step_points(points: Iterable[tuple[float, float]], end_x: float | None = None) -> list[tuple[float, float]]:
    """A running total's steps: flat until the next point, then straight up (or down)."""
    out: list[tuple[float, float]] = []
    for x, y in points:
        if out:
            out.append((x, out[-1][1]))
        out.append((x, y))
    if out and end_x is not None and end_x > out[-1][0]:
        out.append((end_x, out[-1][1]))
    return out


def point(x: float, y: float, *, shape: str = "circle", size: float = 2.2, filled: bool = True,
          title: str | None = None, data: Mapping[str, object] | None = None,
          cls: str | None = None) -> Markup:
    """A marker centred on (x, y): 'circle', 'square', 'diamond' or 'triangle'; filled or open
    tells two series apart in black and white. Its centre is also in data-x/data-y."""
    fill = "#000" if filled else "#fff"
    common = {"fill": fill, "stroke": "#000", "stroke-width": STROKE}
    data = {**(data or {}), "x": float(x), "y": float(y)}
    if shape == "circle":
        return _element("circle", {"cx": float(x), "cy": float(y), "r": float(size), **common},
                        title, data, cls)
    if shape == "square":
        return _element("rect", {"x": float(x - size), "y": float(y - size), "width": float(2 * size),
                                 "height": float(2 * size), **common}, title, data, cls)
    corners = {"diamond": [(0, -1.3), (1.3, 0), (0, 1.3), (-1.3, 0)],
               "triangle": [(0, -1.4), (1.3, 1), (-1.3, 1)]}[shape]
    pts = " ".join(f"{_n(x + dx * size)},{_n(y + dy * size)}" for dx, dy in corners)
    return _element("polygon", {"points": pts, **common}, title, data, cls)


def text(x: float, y: float, words: str, *, anchor: str = "start", bold: bool = False,
         size: float = FONT_PT, italic: bool = False, white_behind: bool = False,
         cls: str | None = None, data: Mapping[str, object] | None = None) -> Markup:
    """Words at (x, y) (the baseline); anchor 'start', 'middle' or 'end'. `white_behind`
    draws a white box under them so a label stays legible over lines and hatching."""
    # The font family is the <svg>'s own (`picture`), inherited: written once, not on every word.
    attrs = {"x": float(x), "y": float(y), "font-size": float(size),
             "text-anchor": anchor, "font-weight": "bold" if bold else None,
             "font-style": "italic" if italic else None}
    words = str(words)
    written = _element("text", attrs, data=data, cls=cls, body=words)
    if not white_behind:
        return written
    # A white box the text's width (DejaVu Sans averages about 0.55 em a character, bold 0.62):
    # WeasyPrint does not draw paint-order halos, and a box reads the same everywhere.
    wide = len(words) * size * (0.62 if bold else 0.55) + 2
    left = {"start": x - 1, "middle": x - wide / 2, "end": x - wide + 1}[anchor]
    box = _element("rect", {"x": float(left), "y": float(y - size * 0.85), "width": float(wide),
                            "height": float(size * 1.15), "fill": "#fff", "stroke": "none"})
    return box + written


def path(segments: Iterable[tuple[float, float, float, float]], *, width: float = STROKE,
         dash: str | None = SOLID, stroke: str = "#000", cls: str | None = None) -> Markup:
    """Straight lines (x1, y1, x2, y2) of one style as one <path>: the same strokes as as many
    <line>s (a dash pattern starts again on each piece, as on a line of its own), and one element
    for WeasyPrint to parse and draw instead of several."""
    d = "".join(f"M{_n(float(x1))} {_n(float(y1))}L{_n(float(x2))} {_n(float(y2))}" for x1, y1, x2, y2 in segments)
    return _element("path", {"d": d, "fill": "none", "stroke": stroke, "stroke-width": float(width),
                             "stroke-dasharray": dash}, cls=cls) if d else Markup("")


def group(parts: Iterable[Markup], *, cls: str | None = None, title: str | None = None,
          data: Mapping[str, object] | None = None) -> Markup:
    return _element("g", {}, title, data, cls, body=Markup("").join(parts))


# ---- the picture ------------------------------------------------------------------

def picture(width: float, height: float, parts: Iterable[Markup], *, label: str,
            cls: str = "picture") -> Markup:
    """The whole <svg>: width x height points, `label` its accessible name (role=img).
    Inline SVG: nothing fetched, the sheet stays self-contained. The fill patterns are defined
    only in a picture that uses one (each element is parsed and styled with the page)."""
    body = Markup("").join(parts)
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" class="{cls}" '
        'width="{w}pt" height="{h}pt" viewBox="0 0 {w} {h}" font-family="{font}" aria-label="{label}">'
        '<title>{label}</title>{defs}{body}</svg>'
    ).format(cls=cls, w=_n(width), h=_n(height), font=FONT_FAMILY, label=label,
             defs=_PATTERNS if "url(#pic-" in body else "", body=body)
