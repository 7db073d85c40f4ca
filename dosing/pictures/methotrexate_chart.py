"""The methotrexate levels on a log scale against the rescue's thresholds (issue 19, item 3).

Hours after the start of the infusion along the bottom, the level in µmol/L
up a log axis, as pharmacists have judged delayed clearance for decades.
Everything drawn besides the levels comes from the table in use
(regimens/<protocol>/methotrexate.toml through dosing.rescue.Rescue.data),
never from a constant here:

- expected clearance (dotted): below the leucovorin label's delayed-elimination
  levels, each row from its hour until the next (the row of the hour before a
  level judges it, as the rescue does): at or above it the rescue escalates;
- consider glucarpidase (hatched): above the consensus criterion of each hour;
- the stop threshold (dashed): the rescue stops after a level below it;
- the hour the rescue starts and the next level to draw (dotted verticals).

Each measured level is a dot carrying its hour, value and what it decided in
a <title> and data-* attributes. A level of 0 (below the assay's detection)
has no place on a log axis: it is drawn as an open triangle on a strip under
the axis labelled "below detection", never dropped and never refused, since
a sheet must not fail for its picture; a negative level is refused (the
patient file loader refuses one first). The table of levels and decisions
stays beside the picture on the sheet.
"""

import math

from dosing.pictures import axes, svg

WIDTH, HEIGHT = 500, 215
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 30
FLOOR = 16  # the strip under the axis where a level below detection is drawn


def umol(level) -> float:
    value = level.value.m_as("umol/L")
    if value < 0:
        raise ValueError(f"methotrexate level {level.field}: {value:g} µmol/L is negative; no level can be, and a log axis cannot draw it")
    return value


def _steps(rows, end: float) -> list[tuple[float, float, float]]:
    """(from hour, to hour, µmol/L) of each table row, until the next row's hour (the last until `end`)."""
    rows = sorted(rows)
    return [(hour, rows[i + 1][0] if i + 1 < len(rows) else end, value) for i, (hour, value) in enumerate(rows)]


def clearance_rows(data) -> list[tuple[float, float]]:
    """(hour, µmol/L) above which elimination is delayed: the label table's early rows and its late row."""
    late = data.late.value
    return sorted([*((h, v) for h, v in data.early.value), (late["at_hour"], late["above"])])


def hours_shown(rescue) -> int:
    """0 to the whole day after the last level, the next draw and the label table's last row."""
    data = rescue.data
    last = max([*(level.hours_after_start for level in rescue.levels), *rescue.draws, data.late.value["at_hour"]])
    return 24 * math.ceil((last + 4) / 24)


def decades(rescue) -> tuple[float, float]:
    """The log axis: whole decades around every positive level and every threshold drawn."""
    data = rescue.data
    values = [umol(level) for level in rescue.levels if umol(level) > 0]
    values += [v for _, v in clearance_rows(data)] + [v for _, v in data.glucarpidase.value] + [data.stop_below.value]
    return 10.0 ** math.floor(math.log10(min(values))), 10.0 ** math.ceil(math.log10(max(values)))


def chart(rescue, decided: dict | None = None):
    """The <svg> (markupsafe.Markup) of the levels against the table in use; None without levels.

    `decided` maps a level's entry to the words the sheet prints for what it decided (its <title> says them too).
    """
    if not rescue.levels:
        return None
    data, decided = rescue.data, decided or {}
    end = hours_shown(rescue)
    lo, hi = decades(rescue)
    below = any(umol(level) == 0 for level in rescue.levels)
    bottom = HEIGHT - BOTTOM - (FLOOR if below else 0)
    x = svg.linear(0, end, LEFT, WIDTH - RIGHT)
    y = svg.log(lo, hi, bottom, TOP)
    right = WIDTH - RIGHT
    parts = [svg.rect(LEFT, TOP, right - LEFT, bottom - TOP, cls="frame")]
    # Expected clearance: under each row of the label table, from its hour to the next row's.
    band = _steps(clearance_rows(data), end)
    for start, stop, value in band:
        parts.append(svg.rect(x(start), y(value), x(stop) - x(start), bottom - y(value), fill=svg.DOTS, stroke="none", cls="clearance",
                              title=f"expected clearance: below {axes.number(value)} µmol/L from {axes.number(start)} h (leucovorin label table)",
                              data={"from-hour": start, "to-hour": stop, "value": value}))
    parts.append(svg.polyline(_edge(band, x, y), width=0.8, cls="clearance-edge"))
    # Consider glucarpidase: above each consensus criterion, from its hour to the next one's.
    gluc = _steps(data.glucarpidase.value, end)
    for start, stop, value in gluc:
        parts.append(svg.rect(x(start), TOP, x(stop) - x(start), y(value) - TOP, fill=svg.HATCH, stroke="none", cls="glucarpidase",
                              title=f"consider glucarpidase: above {axes.number(value)} µmol/L from {axes.number(start)} h (Ramsey 2018)",
                              data={"from-hour": start, "to-hour": stop, "value": value}))
    parts.append(svg.polyline(_edge(gluc, x, y), width=1.4, dash=svg.LONG_DASH, cls="glucarpidase-edge"))
    stop = data.stop_below.value
    parts.append(svg.line(LEFT, y(stop), right, y(stop), width=1.2, dash=svg.DASHED, cls="stop",
                          title=f"the rescue stops after a level below {axes.number(stop)} µmol/L", data={"value": stop}))
    parts += [axes.axis_y(y, axes.log_ticks(lo, hi), x=LEFT, grid_to=right, title="µmol/L"),
              axes.axis_x(x, range(0, end + 1, 12), y=HEIGHT - BOTTOM, label=lambda h: f"{h}",
                          title="hours after the start of the methotrexate infusion")]
    start_hour = data.from_hour.value
    parts.append(svg.line(x(start_hour), TOP, x(start_hour), bottom, width=0.6, dash=svg.DOTTED, cls="rescue-start", data={"hour": start_hour}))
    parts.append(svg.text(x(start_hour) + 2, bottom - 3, f"folinic acid from {axes.number(start_hour)} h", size=6, white_behind=True))
    for hour in rescue.draws:
        parts.append(svg.line(x(hour), TOP, x(hour), bottom, width=0.8, dash=svg.DASHED, cls="next-draw", data={"hour": hour},
                              title=f"draw the next level at {axes.number(hour)} h"))
        parts.append(svg.text(x(hour) - 2, TOP + 9, f"next level {axes.number(hour)} h", size=6, anchor="end", white_behind=True))
    # The regions' own words, where each is widest.
    g_start, _, g_value = gluc[0]
    parts.append(svg.text(right - 3, TOP + 20, "consider glucarpidase above the long dashes", size=6.5, anchor="end", bold=True, white_behind=True))
    parts.append(svg.text(right - 3, y(stop) - 3, f"stop the rescue below {axes.number(stop)} µmol/L", size=6.5, anchor="end", bold=True,
                          white_behind=True))
    first, _, first_value = band[0]
    parts.append(svg.text(x(first) + 2, y(first_value) + 9, "expected clearance (dotted)", size=6.5, white_behind=True))
    parts.append(svg.text(x(first) + 2, y(first_value) - 3, "escalate at or above the solid step", size=6.5, white_behind=True))
    if below:
        parts.append(svg.text(LEFT - 4, bottom + FLOOR - 4, "below detection", size=6, anchor="end"))
        parts.append(svg.line(LEFT, bottom + FLOOR, right, bottom + FLOOR, width=0.4))
    placed = [(level, x(level.hours_after_start), y(umol(level)) if umol(level) > 0 else bottom + FLOOR / 2) for level in rescue.levels]
    parts.append(svg.polyline([(px, py) for _, px, py in placed], width=1.0, cls="levels-line"))
    for level, px, py in placed:
        value = umol(level)
        words = decided.get(level.entry, "")
        said = f"{axes.number(level.hours_after_start)} h: {axes.number(value)} µmol/L" + (" (below detection)" if value == 0 else "")
        parts.append(svg.point(px, py, shape="circle" if value > 0 else "triangle", filled=value > 0, size=2.6, cls="level",
                               title=said + (f": {words}" if words else ""),
                               data={"hour": level.hours_after_start, "value": value, "entry": level.entry}))
        parts.append(svg.text(px + 4, py - 4, axes.number(value), size=7, bold=True, white_behind=True, cls="level-label"))
    return svg.picture(WIDTH, HEIGHT, parts, label="Methotrexate levels against the rescue thresholds", cls="picture methotrexate")


def _edge(steps, x, y) -> list[tuple[float, float]]:
    """The top (or bottom) edge of a stepped region, as one line."""
    points = []
    for start, stop, value in steps:
        points += [(x(start), y(value)), (x(stop), y(value))]
    return points
