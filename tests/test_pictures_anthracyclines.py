"""Cumulative anthracyclines as a picture (issue 19, item 5), under the table on the order sheet.

Every point is read back from the SVG and compared with sums worked out by
hand (in the comments) and with the table's printed figures; the picture is
there exactly where the table is.
"""

import re
import xml.etree.ElementTree as ET
from datetime import date

import attrs
import pytest

from conftest import EXAMPLES

from dosing import patient as patients
from dosing.documents import documents, render
from dosing.pipeline import calculate
from dosing.regimen import load_phase, load_protocol
from dosing.units import Q

SVG = "{http://www.w3.org/2000/svg}"


def orders_for(example="standard-risk.toml", phase="induction", start=date(2026, 6, 1), earlier=()):
    protocol = load_protocol()
    patient = patients.load(EXAMPLES / example)
    patient = attrs.evolve(patient, anthracyclines=tuple(
        patients.AnthracyclineDose(date=on, drug=drug, amount=Q(mg, "mg")) for on, drug, mg in earlier))
    return calculate(patient, protocol, load_phase(protocol, phase), start)


def page_of(orders, kind="orders") -> str:
    (document,) = [d for d in documents(orders) if d.kind == kind]
    return render.html(document)


def chart(page: str) -> ET.Element | None:
    found = re.search(r'<svg xmlns="http://www.w3.org/2000/svg"[^>]*class="picture anthracycline-chart".*?</svg>', page, re.S)
    return ET.fromstring(found[0]) if found else None


def with_class(root, cls):
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def panels(picture) -> dict:
    return {g.get("data-unit"): g for g in with_class(picture, "panel")}


# standard-risk (6.4 kg, 62 cm) with 55 mg doxorubicin given on 2026-05-29 (the same measurement), then induction's
# DAUNOrubicin 6.6 mg on days 8 and 22 (2026-06-08 and 2026-06-22). Every dose, earlier or this phase's, is divided by
# the Mosteller BSA of its day rounded as the protocol rounds it: sqrt(6.4 × 62 / 3600) = 0.3319973 -> 0.332 m²:
#   doxorubicin equivalents, mg/m²: 55 ÷ 0.332 = 165.6627; each daunorubicin 6.6 ÷ 0.332 × 0.6 = 11.9277;
#     running 165.6627, 177.5904, 189.5181 (the table's "After this phase": 189.5 mg/m²);
#   mg/kg as given: 55 ÷ 6.4 = 8.59375; 6.6 ÷ 6.4 = 1.03125 each; running 8.59375, 9.625, 10.65625 (table 10.66 mg/kg).
EARLIER = [(date(2026, 5, 29), "doxorubicin", 55)]
EXPECTED = {
    "mg/m²": [("2026-05-29", 165.6627, "yes"), ("2026-06-08", 177.5904, "no"), ("2026-06-22", 189.5181, "no")],
    "mg/kg": [("2026-05-29", 8.59375, "yes"), ("2026-06-08", 9.625, "no"), ("2026-06-22", 10.65625, "no")],
}


def test_each_dose_is_a_point_of_the_running_total_worked_by_hand():
    picture = chart(page_of(orders_for(earlier=EARLIER)))
    drawn = panels(picture)
    assert set(drawn) == {"mg/m²", "mg/kg"}  # 4 months old at the end of induction: the label's mg/kg limit applies
    for unit, expected in EXPECTED.items():
        points = with_class(drawn[unit], "dose")
        got = [(p.get("data-date"), float(p.get("data-total")), p.get("data-earlier")) for p in points]
        assert [(d, e) for d, _, e in got] == [(d, e) for d, _, e in expected]
        assert [t for _, t, _ in got] == pytest.approx([t for _, t, _ in expected], abs=1e-4)
        # the picture's y: each point on the panel's linear axis, read from two of its ticks
        (t0, y0), (t1, y1) = [(float(t.get("data-value")), float(t.get("y1"))) for t in with_class(drawn[unit], "tick")
                              if t.get("y1") == t.get("y2")][:2]  # the y axis's ticks are the horizontal ones
        for p, (_, total, _) in zip(points, expected):
            assert float(p.get("data-y")) == pytest.approx(y0 + (total - t0) * (y1 - y0) / (t1 - t0), abs=0.02)
    # the limits, as regimen data: 300 mg/m² (protocol), 10 mg/kg under 2 years (label), each a dashed line named in words
    assert float(with_class(drawn["mg/m²"], "limit")[0].get("data-value")) == 300
    assert float(with_class(drawn["mg/kg"], "limit")[0].get("data-value")) == 10
    texts = [t.text for t in picture.iter(f"{SVG}text")]
    assert "limit 300 mg/m² (protocol)" in texts and "limit 10 mg/kg (label, under 2 years)" in texts
    assert "after this phase: 10.66 mg/kg, PAST THE LIMIT" in texts and "after this phase: 189.5 mg/m²" in texts


def test_the_last_step_ends_on_the_tables_after_this_phase():
    page = page_of(orders_for(earlier=EARLIER))
    after = re.search(r"<tr><th>After this phase</th><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)
    per_m2_equivalent, per_kg = after[3], after[2]
    assert (per_m2_equivalent, per_kg) == ("189.5 mg/m²", "10.66 mg/kg")
    drawn = panels(chart(page))
    for unit, printed in (("mg/m²", per_m2_equivalent), ("mg/kg", per_kg)):
        last = with_class(drawn[unit], "dose")[-1]
        assert last.find(f"{SVG}title").text.endswith(f"running total {printed}")
        (total,) = with_class(drawn[unit], "total")
        assert total.text.startswith(f"after this phase: {printed}")
    # the step line: flat between doses, up at each, from 0 before the first to the end of the phase
    (line,) = with_class(drawn["mg/m²"], "running-total")
    points = [tuple(map(float, xy.split(","))) for xy in line.get("points").split()]
    ys = [y for _, y in points]
    assert ys == sorted(ys, reverse=True)  # a running total never falls (y grows downwards)
    assert all(a[0] == b[0] or a[1] == b[1] for a, b in zip(points, points[1:]))  # only flat or vertical pieces


def test_a_first_phase_without_earlier_doses_draws_this_phases_doses_from_zero():
    # standard-risk induction alone: 6.6 ÷ 0.332 × 0.6 = 11.9277 mg/m² a dose; 23.8554 after day 22 (table 23.9).
    picture = chart(page_of(orders_for()))
    points = with_class(panels(picture)["mg/m²"], "dose")
    assert [(p.get("data-date"), p.get("data-earlier")) for p in points] == [("2026-06-08", "no"), ("2026-06-22", "no")]
    assert [float(p.get("data-total")) for p in points] == pytest.approx([11.9277, 23.8554], abs=1e-4)
    assert not [t for t in picture.iter(f"{SVG}text") if "PAST THE LIMIT" in (t.text or "")]


def test_the_picture_is_only_where_the_table_is():
    orders = orders_for(earlier=EARLIER)
    for document in documents(orders):
        page = render.html(document)
        has_table = "<h2>Cumulative anthracyclines</h2>" in page
        assert (chart(page) is not None) == has_table == (document.kind == "orders"), document.kind
    # a phase that gives neither drug: no table, no picture, nothing drawn
    blinatumomab = orders_for("sr-moves-to-high-risk.toml", "blinatumomab", date(2026, 7, 5))
    page = page_of(blinatumomab)
    assert "Cumulative anthracyclines" not in page and 'class="picture anthracycline-chart"' not in page


def test_the_pdf_prints_the_picture_with_its_words():
    pypdf = pytest.importorskip("pypdf")
    import io

    pdf = render.pdf_from_html(page_of(orders_for(earlier=EARLIER)))
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for words in ("after this phase: 189.5 mg/m²", "limit 300 mg/m² (protocol)", "limit 10 mg/kg (label, under 2 years)",
                  "earlier dose (patient file)", "this phase"):
        assert words in text, words
