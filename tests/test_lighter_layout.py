"""Layout made cheaper without changing what is printed (issue 18, README "Speed").

- sheet.css is parsed once per process and given to WeasyPrint as a stylesheet
  (dosing/documents/render.py), instead of parsed from each sheet's inlined copy. Its rules then
  come from the user origin, below a template's own <style>: the PDF must stay the PDF WeasyPrint
  makes from the document exactly as written, byte for byte.
- A picture's grid is one <path> per axis, drawn where the lines were; its ticks stay elements
  of their own carrying the values the picture tests read back.
"""

import xml.etree.ElementTree as ET

import pytest

from conftest import induction_html
from dosing.pictures import axes, svg


@pytest.fixture(scope="module")
def sheets(tmp_path_factory):
    """The induction's calendar (landscape, with its own <style>) and INTRATHECAL sheet, as HTML."""
    return induction_html(tmp_path_factory.mktemp("lighter"), "standard-risk.toml", "calendar,intrathecal")


@pytest.mark.parametrize("kind", ["calendar", "intrathecal"])
def test_the_stylesheet_given_once_prints_the_pdf_of_the_document_as_written(sheets, kind):
    import weasyprint

    from dosing.documents import render

    text = sheets[kind]
    assert "<style>" + render._css() + "</style>" in text  # the path that gives WeasyPrint the parsed sheet
    as_written = weasyprint.HTML(string=text, url_fetcher=render._NoFetching(), base_url=None).write_pdf()
    assert render.pdf_from_html(text) == as_written


def test_a_document_without_the_sheet_inlined_is_laid_out_as_it_is():
    """A page with its own style (the printer's warm-up page, a test's) is not given sheet.css."""
    from dosing.documents import render

    plain = render.pdf_from_html("<!DOCTYPE html><html><body><p>one line</p></body></html>")
    assert plain.startswith(b"%PDF")


def test_a_grid_is_one_path_through_every_tick_and_the_ticks_keep_their_values():
    y = svg.linear(0, 10, 100, 0)
    drawn = ET.fromstring(str(svg.picture(200, 120, [axes.axis_y(y, [0, 5, 10], x=30, grid_to=190)], label="test")))
    ns = "{http://www.w3.org/2000/svg}"
    (grid,) = [e for e in drawn.iter(f"{ns}path") if e.get("class") == "grid"]
    assert grid.get("d") == "M30 100L190 100M30 50L190 50M30 0L190 0"
    assert (grid.get("stroke-dasharray"), grid.get("stroke-width"), grid.get("stroke")) == (svg.DOTTED, "0.3", svg.GRID)
    ticks = [(e.get("data-value"), e.get("y1")) for e in drawn.iter(f"{ns}line") if e.get("class") == "tick"]
    assert ticks == [("0", "100"), ("5", "50"), ("10", "0")]
    assert not [e for e in drawn.iter(f"{ns}line") if e.get("class") == "grid"]


def test_fill_patterns_are_defined_only_in_a_picture_that_uses_one():
    ns = "{http://www.w3.org/2000/svg}"
    plain = ET.fromstring(str(svg.picture(50, 20, [svg.rect(1, 1, 10, 10)], label="plain")))
    hatched = ET.fromstring(str(svg.picture(50, 20, [svg.rect(1, 1, 10, 10, fill=svg.HATCH)], label="hatched")))
    assert not list(plain.iter(f"{ns}pattern"))
    assert {p.get("id") for p in hatched.iter(f"{ns}pattern")} == {"pic-hatch", "pic-cross", "pic-dots"}
    # the words' font is the picture's, inherited, written once
    assert plain.get("font-family") == svg.FONT_FAMILY
    assert svg.text(1, 1, "x").count("font-family") == 0
