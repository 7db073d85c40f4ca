"""Growth on the WHO centile lines (issue 19, item 2): the lines are rcpchgrowth's public answer, every measurement is
read back from the SVG with its date, value and centile (compared with rcpchgrowth's own), placed where the axes say."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from pypdf import PdfReader

from conftest import EXAMPLES, ROOT
from dosing.patient import load
from dosing.pictures import growth_chart, who_lines
from dosing.pictures.svg import NS

EXAMPLE = EXAMPLES / "results" / "hd-mtx-delayed-clearance.toml"  # a girl born 2026-02-20, measured 2026-07-27 and 2026-08-31
SVG = "{http://www.w3.org/2000/svg}"


def charts(patient, small=True) -> dict:
    section = growth_chart.section(patient, small=small)
    return {kind: ET.fromstring(str(chart)) for kind, chart in zip(("weight", "length"), section["charts"])}


def ticks(svg, cls: str, position: str) -> list[tuple[float, float]]:
    group = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == cls)
    return [(float(t.get("data-value")), float(t.get(position))) for t in group.iter() if t.get("class") == "tick"]


def placed(svg, value: float, cls: str, position: str) -> float:
    """Where the axis, read from its own ticks, puts `value`."""
    (v0, p0), (v1, p1) = ticks(svg, cls, position)[0], ticks(svg, cls, position)[-1]
    return p0 + (value - v0) * (p1 - p0) / (v1 - v0)


def test_the_kept_lines_are_what_rcpchgrowth_s_public_functions_give_now():
    # who_lines.json was written by `python -m dosing.pictures.who_lines`; a new rcpchgrowth that moves a line fails
    # here (run that command, look at the charts, commit the file).
    assert who_lines.computed() == who_lines.table()
    rcpchgrowth = pytest.importorskip("rcpchgrowth")
    # the nine UK-WHO centiles, 2/3 SD apart, as rcpchgrowth names them
    assert list(who_lines.CENTILES) == rcpchgrowth.constants.reference_constants.COLE_TWO_THIRDS_SDS_NINE_CENTILE_COLLECTION
    assert [round(rcpchgrowth.centile(z), 1) for z in who_lines.SDS] == [0.4, 2.3, 9.1, 25.2, 50, 74.8, 90.9, 97.7, 99.6]
    # one value by its public function: a girl's median weight at birth, WHO 2006, 3.2322 kg
    assert who_lines.lines("female", "weight")[4][1][0] == (0, rcpchgrowth.measurement_from_sds("who", 0, "weight", "female", 0)) == (0, 3.2322)


def test_every_measurement_is_a_point_with_its_date_value_and_rcpchgrowth_s_centile():
    from rcpchgrowth import centile, sds_for_measurement

    patient = load(EXAMPLE)
    drawn = charts(patient)
    for kind, unit, method in (("weight", "kg", "weight"), ("length", "cm", "height")):
        points = [e for e in drawn[kind].iter() if e.get("class") == "measurement"]
        expected = [(m.date, (m.weight if kind == "weight" else m.length).m_as(unit)) for m in patient.measurements]
        assert [(p.get("data-date"), float(p.get("data-value"))) for p in points] == [(d.isoformat(), v) for d, v in expected]
        for p, (measured, value) in zip(points, expected):
            days = (measured - patient.birth_date).days
            assert int(p.get("data-age-days")) == days
            theirs = sds_for_measurement("who", days / 365.25, method, value, "female")
            assert float(p.get("data-z")) == pytest.approx(theirs, abs=0.005)
            assert float(p.get("data-centile")) == pytest.approx(centile(theirs), abs=0.2)
            assert p.find("svg:title", NS).text.startswith(f"{measured.isoformat()}, {days / (365.25 / 12):.1f} months: {value:g} {unit}, ")
            assert float(p.get("data-x")) == pytest.approx(placed(drawn[kind], days / (365.25 / 12), "axis-x", "x1"), abs=0.01)
            assert float(p.get("data-y")) == pytest.approx(placed(drawn[kind], value, "axis-y", "y1"), abs=0.01)
    # By hand, 6.9 kg on 2026-07-27: 157 days = 5.158 months; the small chart's age axis runs 0 to 12 months over x 30 to
    # 216 (250 wide, 30 left, 34 right), so x = 30 + 5.158 ÷ 12 × 186 = 109.95. Its weight axis runs 2 to 13 kg (the
    # 0.4th line at birth, 2.24 kg, down and the 99.6th at a year, 12.3 kg, up to whole kg) over y 126 (150 high, 24
    # under) to 14: y = 126 − (6.9 − 2) ÷ 11 × 112 = 76.11. rcpchgrowth: z −0.074, the 47th centile.
    first = next(e for e in drawn["weight"].iter() if e.get("class") == "measurement")
    assert (float(first.get("data-x")), float(first.get("data-y"))) == pytest.approx((109.95, 76.11), abs=0.01)
    assert first.find("svg:title", NS).text == "2026-07-27, 5.2 months: 6.9 kg, 47th centile"


def test_the_lines_are_drawn_where_their_values_are():
    patient = load(EXAMPLE)
    svg = charts(patient)["weight"]
    lines = [e for e in svg.iter(f"{SVG}polyline") if e.get("class") == "centile"]
    assert [float(e.get("data-centile")) for e in lines] == list(who_lines.CENTILES)
    for line, (centile, values) in zip(lines, who_lines.lines("female", "weight")):
        x, y = (float(v) for v in line.get("points").split()[0].split(","))
        assert (x, y) == pytest.approx((placed(svg, 0, "axis-x", "x1"), placed(svg, values[0][1], "axis-y", "y1")), abs=0.01)
        assert line.get("stroke-dasharray") == ("4 2" if centile in (0.4, 99.6) else None)  # black and white: the outer two dashed
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "centile-label"]
    assert labels == ["0.4", "2", "9", "25", "50", "75", "91", "98", "99.6"]


@pytest.mark.parametrize("centile,words", [(47.2, "47th centile"), (1.5, "2nd centile"), (0.35, "0.3rd centile"), (11.4, "11th centile"),
                                           (99.72, "99.7th centile"), (0.05, "below the 0.1st centile"), (72.6, "73rd centile")])
def test_centile_words(centile, words):
    assert growth_chart.centile_words(centile) == words


def test_the_order_sheet_pdf_holds_both_charts(run, tmp_path):
    status, _, err = run("sheet", EXAMPLE, "--phase", "HR1", "--start", "2026-09-01", "--documents", "orders", "--out", tmp_path,
                         "--today", "2026-09-01")
    assert status == 0, err
    (pdf,) = tmp_path.glob("*_orders.pdf")
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages[:2]).split())  # lines joined as read
    for words in ("Weight-for-age (kg), WHO, girls", "Length-for-age (cm), WHO, girls", "age, months from birth", "99.6",
                  "2026-07-27 (5.2 months): 6.9 kg (47th centile), 64 cm (44th centile);",
                  "(6.3 months): 7.2 kg (41st centile), 66 cm (46th centile) (ringed: the doses use it)."):
        assert words in text, words


def test_the_json_orders_import_no_picture_and_no_sheet_imports_rcpchgrowth(tmp_path):
    code = ("import sys, json; from dosing.cli import main; status = main({argv!r}); "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('dosing.pictures', 'rcpchgrowth', 'scipy')))), file=sys.stderr)")
    base = ["sheet", str(EXAMPLE), "--phase", "HR1", "--start", "2026-09-01", "--today", "2026-09-01"]
    found = {}
    for name, argv in (("json", [*base, "--format", "json"]), ("html", [*base, "--format", "html", "--out", str(tmp_path / "html")])):
        done = subprocess.run([sys.executable, "-c", code.format(argv=argv)], cwd=ROOT, capture_output=True, text=True, timeout=300)
        found[name] = json.loads(done.stderr.strip().splitlines()[-1])
    assert found["json"] == []
    assert "dosing.pictures.growth_chart" in found["html"] and not any(m.startswith(("rcpchgrowth", "scipy")) for m in found["html"])


def test_the_page_shows_the_growth_charts_under_the_plan(tmp_path):
    pytest.importorskip("flask", reason="the web extra is not installed")
    from test_web import example_form, post

    from dosing.web import create_app

    page = post(create_app(tmp_path / "sheets").test_client(), example_form("sr-moves-to-high-risk.toml"), "plan").get_data(as_text=True)
    assert page.index('id="plan-title"') < page.index('id="growth-title"') < page.index('id="open-title"')
    start = page.index('<svg', page.index('id="growth-title"'))
    weight = ET.fromstring(page[start:page.index("</svg>", start) + 6])
    points = [(e.get("data-date"), float(e.get("data-value"))) for e in weight.iter() if e.get("class") == "measurement"]
    assert points == [("2026-05-30", 8.1), ("2026-07-03", 8.1)]  # examples/sr-moves-to-high-risk.toml's [[measurements]]
    assert weight.get("width") == "430pt"  # larger than the order sheet's 250 pt


def test_the_measurement_the_doses_use_is_ringed_on_the_order_sheet():
    from datetime import date

    patient = load(EXAMPLE)
    section = growth_chart.section(patient, used=date(2026, 8, 31))  # HR1 from 2026-09-01 uses the newest, 2026-08-31
    for chart in section["charts"]:
        svg = ET.fromstring(str(chart))
        (ring,) = [e for e in svg.iter() if e.get("class") == "used"]
        point = [e for e in svg.iter() if e.get("class") == "measurement"][-1]
        assert ring.get("data-date") == point.get("data-date") == "2026-08-31" and ring.get("fill") == "#fff"
        assert (ring.get("cx"), ring.get("cy")) == (point.get("cx"), point.get("cy"))
    assert [row["used"] for row in section["rows"]] == [False, True]
    assert not any(e.get("class") == "used" for e in charts(patient)["weight"].iter())  # the page rings none
