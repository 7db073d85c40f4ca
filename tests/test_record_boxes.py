"""The administration record's boxes to sign, read from WeasyPrint's own layout of the record.

A row has a cell only for what it prints (date, day, planned time, drug, dose); the boxes to
sign (time given, nurses, batch, why) are slots of the table's grid with no cell, drawn by the
columns' and rows' collapsed borders (templates/sheet.css, README "Speed"). The text of the PDF
cannot show a box that is not drawn; the layout can: WeasyPrint draws exactly the edges of its
collapsed border grid (`collapsed_border_grid`, which its own drawing code reads).
"""

import pytest

from conftest import EXAMPLES, induction_html
from dosing.cli import main

MM = 96 / 25.4  #: CSS px per mm

# (the table's class, the header of each column, the cells a body row has)
TABLES = {
    "systemic": (["Date", "Day", "Planned time", "Drug", "Dose, route, duration", "Time given", "Nurse 1", "Nurse 2", "Batch",
                  "Held or changed: why"], 5),
    "spinal": (["Date", "Day", "Drug", "Dose", "Route", "Time given", "Nurse 1", "Nurse 2", "Doctor", "Batch",
                "Held or changed: why"], 5),
}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """Each record table as WeasyPrint lays it out: its part on each page, in page order."""
    import weasyprint
    from weasyprint.formatting_structure import boxes

    record = induction_html(tmp_path_factory.mktemp("record"), "turns-one-year.toml", "record")["administration-record"]
    document = weasyprint.HTML(string=record, base_url=None).render()
    found = {}

    def walk(box):
        if isinstance(box, boxes.TableBox) and "record" in (box.element.get("class") or "").split():
            kind = next(c for c in box.element.get("class").split() if c in TABLES)
            found.setdefault(kind, []).append(box)
        for child in getattr(box, "children", None) or []:
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    assert sorted(found) == ["spinal", "systemic"]
    return found


@pytest.fixture(scope="module")
def doses():
    """The rows each table must have, from the JSON orders: a row per dose given (three a day are three rows)."""
    import contextlib
    import io
    import json

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["sheet", str(EXAMPLES / "turns-one-year.toml"), "--phase", "induction", "--start", "2026-06-01", "--format", "json"]) == 0
    count = {"systemic": 0, "spinal": 0}
    for a in json.loads(printed.getvalue())["administrations"]:
        if a["route"] == "INTRATHECAL":
            count["spinal"] += 1
        else:
            count["systemic"] += 1 if a.get("continuous") else len(a["times"]) if a.get("times") else a["times_per_day"]
    return count


def _body_rows(parts):
    """Every row of the table but the header, which each page's part repeats."""
    return [row for part in parts for group in part.children if not group.is_header for row in group.children]


@pytest.mark.parametrize("kind", TABLES)
def test_the_header_names_every_box(tables, kind):
    headers, _ = TABLES[kind]
    (header,) = tables[kind][0].children[0].children
    assert [" ".join("".join(cell.element.itertext()).split()) for cell in header.children] == headers


@pytest.mark.parametrize("kind", TABLES)
def test_a_row_has_a_cell_only_for_what_it_prints(tables, doses, kind):
    headers, printed = TABLES[kind]
    body = _body_rows(tables[kind])
    assert len(body) == doses[kind] > 10
    for row in body:
        assert len(row.children) == printed  # no empty cell: the boxes to sign are drawn by borders
        assert all(cell.colspan == 1 for cell in row.children)
    assert all(len(part.column_widths) == len(headers) for part in tables[kind])


@pytest.mark.parametrize("kind", TABLES)
def test_every_box_to_sign_is_drawn_on_every_row(tables, kind):
    headers, printed = TABLES[kind]
    # The grid is the whole table's, header row first; each page's part draws its own rows of it.
    vertical, horizontal = tables[kind][0].collapsed_border_grid
    assert len(vertical) == 1 + len(_body_rows(tables[kind]))
    for y in range(1, len(vertical)):  # every body row
        for x in range(printed, len(headers) + 1):  # the left and right edge of each box to sign
            _, (style, width, _) = vertical[y][x]
            assert style == "solid" and width > 0, (kind, y, headers[min(x, len(headers) - 1)])
        for x in range(printed, len(headers)):  # its top and bottom
            for edge in (y, y + 1):
                _, (style, width, _) = horizontal[edge][x]
                assert style == "solid" and width > 0, (kind, y, headers[x])


@pytest.mark.parametrize("kind", TABLES)
def test_each_box_to_sign_has_room_to_write(tables, kind):
    headers, printed = TABLES[kind]
    widths = tables[kind][0].column_widths[printed:]
    assert all(width >= 11 * MM - 0.5 for width in widths), [round(w / MM, 1) for w in widths]
    # every row at least 7 mm high: a time and two initials fit
    assert all(row.height >= 7 * MM - 0.5 for row in _body_rows(tables[kind]))
