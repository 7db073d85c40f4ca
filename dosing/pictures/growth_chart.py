"""Every weight and length of the patient on the WHO centile lines for the infant's sex (issue 19, item 2).

Two charts, weight-for-age and length-for-age, the age in months from birth
along the bottom. The lines are who_lines.py's (rcpchgrowth's nine UK-WHO
centiles, 0.4th to 99.6th); each measurement is a dot carrying its date, age,
value and centile in a <title> and data-* attributes. The centile of a
measurement is dosing.growth's (the WHO LMS z-score the sheet's growth check
uses, without SciPy; tests compare it with rcpchgrowth's own answer). Black
and white: the 0.4th and 99.6th lines dashed, the 50th heavier, each line
named at its right end. The figures stay beside the picture: `section` gives
each measurement as words too, and the order sheet's body box keeps the
weight, length and BSA the doses use.
"""

import math
from datetime import date

import attrs

from dosing import growth
from dosing.pictures import axes, svg, who_lines

DAYS_PER_MONTH = 365.25 / 12  # the age axis: months from birth, as a growth chart reads
UNITS = {"weight": "kg", "length": "cm"}
NAMES = {"weight": "Weight", "length": "Length"}
SHOWN_MONTHS = 12  # at least the first year, where every infant on the protocol is diagnosed


@attrs.frozen
class Point:
    """One weight or one length of the patient file, with its WHO centile (None when it cannot be worked out)."""

    kind: str  #: "weight" or "length"
    measured: date
    age_days: int
    value: float  #: kg or cm
    z: float | None
    centile: float | None

    @property
    def months(self) -> float:
        return self.age_days / DAYS_PER_MONTH


def points(patient) -> list[Point]:
    """Every measurement of the patient file, weight and length, oldest first."""
    found = []
    for m in sorted(patient.measurements, key=lambda m: m.date):
        days = (m.date - patient.birth_date).days
        for kind, quantity, method in (("weight", m.weight, "weight"), ("length", m.length, "height")):
            value = quantity.m_as(UNITS[kind])
            try:
                z = growth.z_score(method, patient.sex, days, value)
            except growth.Unreadable:
                z = None
            found.append(Point(kind, m.date, days, value, z, growth.centile(z) if z is not None else None))
    return found


def centile_words(centile: float | None) -> str:
    """'41st centile', '0.3rd centile'; the extremes to one decimal, so 99.7 never reads as 100."""
    if centile is None:
        return "centile not worked out (WHO tables unreadable)"
    if centile < 0.1:
        return "below the 0.1st centile"
    if centile > 99.9:
        return "above the 99.9th centile"
    shown = f"{centile:.1f}" if centile < 1 or centile > 99 else f"{round(centile)}"
    last = shown[-1]
    suffix = "th" if shown.endswith(("11", "12", "13")) else {"1": "st", "2": "nd", "3": "rd"}.get(last, "th")
    return f"{shown}{suffix} centile"


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def describe(p: Point) -> str:
    """A point's words: its <title>, and the line printed under the charts."""
    return f"{p.measured.isoformat()}, {p.months:.1f} months: {_number(p.value)} {UNITS[p.kind]}, {centile_words(p.centile)}"


def shown_months(found: list[Point]) -> int:
    """The age axis: at least a year, else to the next 3 months past the oldest measurement (at most the lines' 36)."""
    oldest = max((p.months for p in found), default=0)
    last = who_lines.AGES_DAYS[-1] / DAYS_PER_MONTH
    return int(min(3 * math.floor(last / 3), max(SHOWN_MONTHS, 3 * math.ceil((oldest + 0.25) / 3))))


def drawn_age(days: int) -> bool:
    """The ages a line is drawn through: weekly for the first 13 weeks, where the lines bend most, then every 4 weeks
    (straight pieces a month long cannot be told from the curve at this size, and each point costs layout time), and
    both sides of the step at 2 years."""
    last = who_lines.LAST_LENGTH_DAY
    return days <= 91 or days in (last, last + 1) or (days % 28 == 0 if days <= last else (days - last - 1) % 28 == 0)


def chart(sex: str, kind: str, found: list[Point], width: float, height: float, small: bool = True, used: date | None = None):
    """One chart: the nine centile lines for `sex` and the patient's points of `kind`, as an <svg> (markupsafe.Markup).

    `used`: the date of the measurement the sheet's doses use, ringed (an order sheet; the page rings none)."""
    mine = [p for p in found if p.kind == kind]
    months = shown_months(found)
    font = 6 if small else 7
    left, right, top, bottom = 30, 34, 14, 24
    x = svg.linear(0, months, left, width - right)
    shown = [d for d in who_lines.AGES_DAYS if d / DAYS_PER_MONTH <= months + 1e-9]
    ages = {d for d in shown if drawn_age(d)} | {shown[-1]}  # and the last age within the axis, so every line reaches its end
    lines = [(c, [(d / DAYS_PER_MONTH, v) for d, v in line if d in ages]) for c, line in who_lines.lines(sex, kind)]
    values = [v for _, line in lines for _, v in line] + [p.value for p in mine]
    step = 1 if kind == "weight" and months <= 12 else 2 if kind == "weight" else 5
    lo, hi = step * math.floor(min(values) / step), step * math.ceil(max(values) / step)
    y = svg.linear(lo, hi, height - bottom, top)
    parts = [svg.rect(left, top, width - right - left, height - bottom - top, fill=svg.WHITE, cls="frame")]
    parts.append(axes.axis_y(y, axes.ticks(lo, hi, 6 if small else 8), x=left, grid_to=width - right))
    every = 3 if months <= 18 else 6
    past_two = kind == "length" and months * DAYS_PER_MONTH > who_lines.LAST_LENGTH_DAY  # WHO: standing height from 2 years
    parts.append(axes.axis_x(x, range(0, months + 1, every), y=height - bottom, label=lambda m: f"{m}", grid_to=top,
                             title="age, months from birth" + ("; the lines are standing height from 24" if past_two else "")))
    for centile, line in lines:
        style = {"dash": svg.DASHED, "width": 0.6} if centile in (0.4, 99.6) else {"width": 1.0} if centile == 50 else {"width": 0.4}
        pieces = [[(a, v) for a, v in line if a <= who_lines.LAST_LENGTH_DAY / DAYS_PER_MONTH],
                  [(a, v) for a, v in line if a > who_lines.LAST_LENGTH_DAY / DAYS_PER_MONTH]]
        for piece in pieces if kind == "length" else [line]:
            if len(piece) > 1:
                parts.append(svg.polyline([(x(a), y(v)) for a, v in piece], cls="centile", title=f"{centile:g}th centile (WHO)",
                                          data={"centile": centile}, **style))
    for (centile, line), at in zip(lines, spread([y(line[-1][1]) for _, line in lines], font - 0.5)):
        parts.append(svg.text(width - right + 2, at + font * 0.35, f"{centile:g}", size=font - 0.5, cls="centile-label",
                              data={"centile": centile}))
    parts.append(svg.text(width - right + 2, top - 3, "centile", size=font - 0.5, italic=True))
    if len(mine) > 1:
        parts.append(svg.polyline([(x(p.months), y(p.value)) for p in mine], width=0.8, cls="path"))
    for p in mine:
        if p.measured == used:
            parts.append(svg.point(x(p.months), y(p.value), size=5.0 if small else 6.0, filled=False, cls="used",
                                   title=f"the doses on this sheet use this measurement ({p.measured.isoformat()})",
                                   data={"date": p.measured}))
        parts.append(svg.point(x(p.months), y(p.value), size=2.0 if small else 2.6, title=describe(p), cls="measurement",
                               data={"kind": kind, "date": p.measured, "age-days": p.age_days, "value": p.value,
                                     "centile": None if p.centile is None else round(p.centile, 3),
                                     "z": None if p.z is None else round(p.z, 4)}))
    heading = f"{NAMES[kind]}-for-age ({UNITS[kind]}), WHO, {'girls' if sex == 'female' else 'boys'}"
    parts.append(svg.text(left, top - 4, heading, bold=True, size=font + 0.5))
    return svg.picture(width, height, parts, label=f"{NAMES[kind]} for age on the WHO centile lines", cls=f"picture growth {kind}")


def spread(ys: list[float], gap: float) -> list[float]:
    """Label positions at least `gap` apart, each as near its line's end as that allows (ys: lowest line first, so
    falling on the page). Pushed up from the lowest, then the whole set centred back on the lines' own middle."""
    placed = []
    for wanted in ys:
        placed.append(min(wanted, placed[-1] - gap) if placed else wanted)
    shift = (sum(ys) - sum(placed)) / len(ys) if ys else 0
    shifted = [p + shift for p in placed]
    return shifted if all(abs(a - b) <= gap * len(ys) for a, b in zip(shifted, ys)) else placed


def section(patient, small: bool = True, used: date | None = None) -> dict:
    """{"charts": [weight, length], "rows": [...], "lines": ...} for a template: the charts and the same figures in words;
    `used` is the date of the measurement the doses use (ringed)."""
    found = points(patient)
    size = (250, 150) if small else (430, 260)
    return {
        "charts": [chart(patient.sex, kind, found, *size, small=small, used=used) for kind in ("weight", "length")],
        # points() gives each measurement's weight, then its length
        "rows": [{"date": w.measured.isoformat(), "age": f"{w.months:.1f} months", "weight": _said(w), "length": _said(l),
                  "used": w.measured == used}
                 for w, l in zip(found[0::2], found[1::2])],
        "lines": ", ".join(f"{c:g}" for c in who_lines.CENTILES),
    }


def _said(p: Point) -> str:
    return f"{_number(p.value)} {UNITS[p.kind]} ({centile_words(p.centile)})"
