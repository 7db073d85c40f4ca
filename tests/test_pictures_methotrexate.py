"""The methotrexate levels drawn on the rescue sheet (issue 19, item 3): every level read back from the SVG, placed
where the log axis says, and every threshold drawn from the table in use (methotrexate.toml), never from the drawing."""

import math
import xml.etree.ElementTree as ET
from datetime import time

import attrs
import pytest
from pypdf import PdfReader

from conftest import EXAMPLES
from dosing import pipeline
from dosing.patient import load
from dosing.pictures import methotrexate_chart
from dosing.pictures.svg import NS
from dosing.regimen import Value, load_phase, load_protocol
from dosing.units import Q

PROTOCOL = load_protocol()
EXAMPLE = EXAMPLES / "results" / "hd-mtx-delayed-clearance.toml"
LEVELS = [(24, 150), (36, 12), (42, 6), (48, 2.1), (72, 0.8)]  # the example's [[labs]], hours after the start: µmol/L


def hr1(patient=None):
    from datetime import date

    patient = patient or load(EXAMPLE)
    return pipeline.calculate(patient, PROTOCOL, load_phase(PROTOCOL, "HR1"), date(2026, 9, 1), infusion_start=time(10, 0))


def drawn(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def of_class(svg, cls: str) -> list[ET.Element]:
    return [e for e in svg.iter() if e.get("class") == cls]


def axis(svg, cls: str, position: str) -> list[tuple[float, float]]:
    """(value, position) of each tick of the axis: a tick's value as drawn, and its x (axis-x) or y (axis-y)."""
    group = next(g for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == cls)
    return [(float(t.get("data-value")), float(t.get(position))) for t in group.iter() if t.get("class") == "tick"]


def test_every_level_is_a_point_with_its_hour_and_value_where_the_axes_place_it():
    svg = drawn(methotrexate_chart.chart(hr1().methotrexate))
    points = of_class(svg, "level")
    assert [(float(p.get("data-hour")), float(p.get("data-value"))) for p in points] == LEVELS
    # By hand, for 150 µmol/L at 24 h: the axis runs 0 to 120 h (the next level to draw is at 96 h; 96 + 4 rounded up to a
    # whole day is 120) over x 40 to 488 (500 wide, 40 left, 12 right), so x = 40 + 24 ÷ 120 × 448 = 129.6. The log axis
    # runs from 0.1 (the decade under the lowest value drawn, the label's 0.2 at 72 h) to 1000 (the decade over 150),
    # four decades over y 185 (215 high, 30 under) to 12: 173 ÷ 4 = 43.25 pt a decade, so
    # y = 185 − (log10 150 − log10 0.1) × 43.25 = 185 − 3.17609 × 43.25 = 47.64.
    first = points[0]
    assert float(first.get("data-x")) == pytest.approx(129.6, abs=0.01)
    assert float(first.get("data-y")) == pytest.approx(47.64, abs=0.01)
    # Every level against the axes as drawn: x between its hour ticks, y from the log ticks' own positions.
    xs, ys = axis(svg, "axis-x", "x1"), axis(svg, "axis-y", "y1")
    (h0, x0), (h1, x1) = xs[0], xs[-1]
    (v0, y0), (v1, y1) = ys[0], ys[-1]
    assert (v0, v1) == (0.1, 1000)
    for p, (hour, value) in zip(points, LEVELS):
        assert float(p.get("data-x")) == pytest.approx(x0 + (hour - h0) * (x1 - x0) / (h1 - h0), abs=0.01)
        assert float(p.get("data-y")) == pytest.approx(y0 + math.log10(value / v0) * (y1 - y0) / math.log10(v1 / v0), abs=0.01)
        assert p.find("svg:title", NS).text == f"{hour:g} h: {value:g} µmol/L"


def test_what_each_level_decided_is_in_its_title():
    section = __import__("dosing.documents.methotrexate", fromlist=["section"]).section(hr1())
    titles = [p.find("svg:title", NS).text for p in of_class(drawn(section["chart"]), "level")]
    assert titles[0] == ("24 h: 150 µmol/L: 50 µmol/L or more at 24 hours or later (label, delayed early elimination): ESCALATE")
    assert titles[-1] == "72 h: 0.8 µmol/L: below 1 µmol/L while escalated: 15 mg every 3 hours from here"


def test_every_threshold_is_the_table_s():
    rescue = hr1().methotrexate
    svg = drawn(methotrexate_chart.chart(rescue))
    # methotrexate.toml: stop below 0.25; early rows 50 at 24 h and 5 at 48 h, late above 0.2 at 72 h; glucarpidase
    # above 30 at 36 h, 10 at 42 h, 5 at 48 h; the rescue from hour 42; the next level at 96 h.
    assert [float(e.get("data-value")) for e in of_class(svg, "stop")] == [0.25]
    assert [(float(e.get("data-from-hour")), float(e.get("data-to-hour")), float(e.get("data-value"))) for e in of_class(svg, "clearance")] == [
        (24, 48, 50), (48, 72, 5), (72, 120, 0.2)]
    assert [(float(e.get("data-from-hour")), float(e.get("data-to-hour")), float(e.get("data-value"))) for e in of_class(svg, "glucarpidase")] == [
        (36, 42, 30), (42, 48, 10), (48, 120, 5)]
    assert [float(e.get("data-hour")) for e in of_class(svg, "rescue-start")] == [42]
    assert [float(e.get("data-hour")) for e in of_class(svg, "next-draw")] == [96]
    # A centre's own table moves every line: nothing is a constant of the drawing.
    data = rescue.data
    theirs = attrs.evolve(data, stop_below=attrs.evolve(data.stop_below, value=0.1),
                          glucarpidase=Value("glucarpidase", ((36, 20.0), (48, 4.0)), "A", "a centre's own"))
    svg = drawn(methotrexate_chart.chart(attrs.evolve(rescue, data=theirs)))
    assert [float(e.get("data-value")) for e in of_class(svg, "stop")] == [0.1]
    assert [float(e.get("data-value")) for e in of_class(svg, "glucarpidase")] == [20, 4]


def test_a_level_below_detection_is_drawn_on_its_strip_and_a_negative_one_refused():
    orders = hr1()
    rescue = orders.methotrexate
    zero = attrs.evolve(rescue.levels[-1], value=Q(0, "umol/L"))
    svg = drawn(methotrexate_chart.chart(attrs.evolve(rescue, levels=rescue.levels[:-1] + (zero,))))
    last = of_class(svg, "level")[-1]
    assert last.tag == "{http://www.w3.org/2000/svg}polygon" and last.get("fill") == "#fff"  # an open triangle
    assert last.find("svg:title", NS).text == "72 h: 0 µmol/L (below detection)"
    words = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "below detection" in words
    # under the lowest tick of the log axis: nowhere on it
    assert float(last.get("data-y")) > max(y for _, y in axis(svg, "axis-y", "y1"))
    negative = attrs.evolve(zero, value=Q(-1, "umol/L"))
    with pytest.raises(ValueError, match=r"methotrexate level labs\[\d+\]: -1 µmol/L is negative"):
        methotrexate_chart.chart(attrs.evolve(rescue, levels=(negative,)))


def test_no_levels_no_picture():
    patient = load(EXAMPLE)
    orders = hr1(attrs.evolve(patient, labs=tuple(r for r in patient.labs if r.test != "methotrexate")))
    assert orders.methotrexate is not None and methotrexate_chart.chart(orders.methotrexate) is None


def test_the_rescue_sheet_pdf_holds_the_picture(run, tmp_path):
    status, _, err = run("sheet", EXAMPLE, "--phase", "HR1", "--start", "2026-09-01", "--infusion-start", "10:00",
                         "--documents", "orders", "--out", tmp_path, "--today", "2026-09-01")
    assert status == 0, err
    (pdf,) = tmp_path.glob("*_orders.pdf")
    pages = [page.extract_text() for page in PdfReader(pdf).pages]
    page = next(text for text in pages if "consider glucarpidase above the long dashes" in text)
    for words in ("stop the rescue below 0.25 µmol/L", "expected clearance (dotted)", "next level 96 h", "folinic acid from 42 h",
                  "hours after the start of the methotrexate infusion", "µmol/L", "150", "2.1", "0.8"):
        assert words in page, words
