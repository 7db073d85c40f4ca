"""The drawing core (dosing/pictures/svg.py, axes.py): escaping, scales, ticks, read-back attributes."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from dosing.pictures import axes, svg

SVG = "{http://www.w3.org/2000/svg}"


def test_everything_from_data_is_escaped_and_the_picture_stays_well_formed():
    hostile = 'Baby <script>alert(1)</script> & "O\'Brien"'
    picture = svg.picture(100, 50, [svg.text(1, 10, hostile, white_behind=True),
                                    svg.rect(0, 0, 10, 10, title=hostile, data={"phase": hostile})], label=hostile)
    assert isinstance(picture, Markup)
    assert "<script>" not in picture and "&lt;script&gt;" in picture
    root = ET.fromstring(str(picture))  # parses: every quote and ampersand escaped
    assert root.find(f"{SVG}title").text == hostile and root.get("aria-label") == hostile
    assert [t.text for t in root.iter(f"{SVG}text")] == [hostile]
    (rect,) = [r for r in root.iter(f"{SVG}rect") if r.get("data-phase")]
    assert rect.get("data-phase") == hostile and rect.find(f"{SVG}title").text == hostile


def test_a_data_attribute_name_is_checked_and_values_keep_their_digits():
    with pytest.raises(ValueError, match="data attribute name 'on\"click'"):
        svg.rect(0, 0, 1, 1, data={'on"click': 1})
    point = ET.fromstring(str(svg.point(10.123456, 20, data={"value": 0.0123456, "date": dt.date(2026, 6, 1)})))
    assert (point.get("data-value"), point.get("data-date")) == ("0.0123456", "2026-06-01")
    assert (point.get("cx"), point.get("data-x")) == ("10.12", "10.12")  # positions to 0.01 pt


def test_scales():
    y = svg.linear(0, 300, 100, 0)  # upwards
    assert (y(0), y(150), y(300)) == (100, 50, 0)
    log = svg.log(0.1, 1000, 0, 400)
    assert [log(v) for v in (0.1, 1, 10, 1000)] == pytest.approx([0, 100, 200, 400])
    with pytest.raises(ValueError):
        log(0)
    with pytest.raises(ValueError):
        svg.log(0, 10, 0, 1)
    x = svg.dates(dt.date(2026, 6, 1), dt.date(2026, 6, 11), 0, 100)
    assert (x(dt.date(2026, 6, 1)), x(dt.date(2026, 6, 6)), x(dt.date(2026, 6, 11))) == (0, 50, 100)


def test_ticks_are_round_ordered_and_within_range():
    assert axes.ticks(0, 37.5, 4) == [0, 10, 20, 30]
    assert axes.ticks(0, 12.5, 4) == [0, 5, 10]
    assert axes.log_ticks(0.05, 5) == [0.05, 0.1, 0.2, 0.5, 1, 2, 5]
    assert axes.log_ticks(0.01, 1000) == [0.01, 0.1, 1, 10, 100, 1000]
    weeks = axes.date_ticks(dt.date(2026, 6, 3), dt.date(2026, 7, 20), 8)
    assert weeks[0] == dt.date(2026, 6, 8) and all(d.weekday() == 0 for d in weeks)  # Mondays
    months = axes.date_ticks(dt.date(2026, 5, 20), dt.date(2028, 5, 21), 8)
    assert all(d.day == 1 for d in months) and months == sorted(months) and months[0] > dt.date(2026, 5, 20)


def test_step_points_are_flat_then_vertical():
    assert svg.step_points([(0, 10), (5, 8), (9, 3)], end_x=12) == [(0, 10), (5, 10), (5, 8), (9, 8), (9, 3), (12, 3)]
