"""The plan as a timeline (issue 19, item 1): `dosing plan --format html/pdf` and the web page.

Every bar, marker and line is read back from the SVG (xml.etree) and compared
with `dosing plan --format json`, computed without the drawing; the dates
asserted by hand are worked out in the comments.
"""

import html
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from conftest import EXAMPLES, TODAY

SVG = "{http://www.w3.org/2000/svg}"


def the_svg(page: str, cls: str = "plan-timeline") -> ET.Element:
    """The picture of class `cls` in an HTML page, parsed (inline SVG is XML)."""
    found = re.search(r'<svg xmlns="http://www.w3.org/2000/svg"[^>]*class="[^"]*' + cls + r'[^"]*".*?</svg>', page, re.S)
    assert found, f"no {cls} picture in the page"
    return ET.fromstring(found[0])


def with_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def plan_json(run, path) -> dict:
    status, out, err = run("plan", path, "--format", "json")
    assert status == 0, err
    return json.loads(out)


def plan_html(run, path, out) -> str:
    status, said, err = run("plan", path, "--format", "html", "--out", out)
    assert status == 0, err
    (written,) = [line for line in said.splitlines() if line]
    return open(written, encoding="utf-8").read()


@pytest.mark.parametrize("example", ["standard-risk.toml", "sr-moves-to-high-risk.toml", "ir-block-path.toml",
                                     "turns-six-months.toml", "kmt2a-rearranged.toml"])
def test_every_bar_is_a_phase_of_the_plan_over_its_estimated_dates(run, tmp_path, example):
    expected = plan_json(run, EXAMPLES / example)
    picture = the_svg(plan_html(run, EXAMPLES / example, tmp_path / "out"))
    bars = with_class(picture, "bar")
    drawn = [{"phase": b.get("data-phase"), "start": b.get("data-start"), "end": b.get("data-end") or None} for b in bars]
    assert drawn == expected["estimated"]
    # One date axis: every day is equally wide, so a bar's width is its days (end inclusive) times one day's width,
    # and a later start is further right. A referral's bar has no end: drawn open (dashed, an arrow), never a date.
    closed = [(b, date.fromisoformat(b.get("data-start")), date.fromisoformat(b.get("data-end"))) for b in bars if b.get("data-end")]
    per_day = {round(float(b.get("width")) / ((end - start).days + 1), 3) for b, start, end in closed if (end - start).days >= 3}
    assert max(per_day) - min(per_day) < 0.01, per_day
    starts = [(date.fromisoformat(b.get("data-start")), float(b.get("x"))) for b in bars]
    assert all(x1 < x2 for (d1, x1), (d2, x2) in zip(starts, starts[1:]) if d1 < d2)
    for b in bars:
        assert (b.get("data-open") == "yes") == (b.get("data-end") == "")
        assert b.find(f"{SVG}title").text.startswith(b.get("data-phase") + ":")
    # The date axis: ticks in date order, left to right.
    ticks = [(date.fromisoformat(t.get("data-value")), float(t.get("x1"))) for t in with_class(picture, "tick")]
    assert len(ticks) >= 2 and ticks == sorted(ticks) and len({x for _, x in ticks}) == len(ticks)
    # Today (DOSING_TODAY in the tests): one solid line where today falls between the ticks.
    (today,) = with_class(picture, "today")
    assert today.get("data-date") == TODAY and today.get("stroke-dasharray") is None
    (d0, x0), (d1, x1) = ticks[0], ticks[-1]
    at = x0 + (date.fromisoformat(TODAY) - d0).days * (x1 - x0) / (d1 - d0).days
    assert float(today.get("x1")) == pytest.approx(at, abs=0.02)


def test_the_risk_group_change_is_labelled_where_the_high_risk_phases_start(run, tmp_path):
    # sr-moves-to-high-risk: day-36 MRD 0.1 % -> HR; induction 2026-05-30 to 2026-07-04, then blinatumomab
    # from 2026-07-05 (the day after) and the HSCT referral from 2026-08-02: both hatched, induction not.
    expected = plan_json(run, EXAMPLES / "sr-moves-to-high-risk.toml")
    assert (expected["initial_risk"], expected["current_risk"]) == ("SR", "HR")
    page = plan_html(run, EXAMPLES / "sr-moves-to-high-risk.toml", tmp_path)
    picture = the_svg(page)
    (change,) = with_class(picture, "risk-change")
    assert (change.get("data-from"), change.get("data-to"), change.get("data-date")) == ("SR", "HR", "2026-07-05")
    (label,) = with_class(picture, "risk-change-label")
    assert label.text == "risk group SR → HR (day-36 MRD)"
    bars = {b.get("data-phase"): b for b in with_class(picture, "bar")}
    assert bars["induction"].get("fill") == "#fff"
    assert bars["blinatumomab"].get("fill") == "url(#pic-hatch)"
    assert (bars["HSCT"].get("data-start"), bars["HSCT"].get("data-open")) == ("2026-08-02", "yes")
    assert not with_class(picture, "awaiting")  # nothing awaited: no "next: ?" row


def test_the_awaited_result_is_marked_on_its_day(run, tmp_path):
    # standard-risk: diagnosed 2026-05-28 = day 1 of induction; the day-36 MRD is due on day 36 = 28 May + 35 days
    # = 2 July 2026, the last day of induction (36 days).
    expected = plan_json(run, EXAMPLES / "standard-risk.toml")
    assert expected["awaiting"] == "day36 MRD" and expected["estimated"][0]["end"] == "2026-07-02"
    picture = the_svg(plan_html(run, EXAMPLES / "standard-risk.toml", tmp_path))
    (awaiting,) = with_class(picture, "awaiting")
    assert (awaiting.get("data-result"), awaiting.get("data-date")) == ("day36 MRD", "2026-07-02")
    assert awaiting.find(f"{SVG}title").text == "Awaiting the day36 MRD, due about 2026-07-02"
    assert "awaiting the day-36 MRD" in [t.text for t in picture.iter(f"{SVG}text")]
    assert not with_class(picture, "risk-change")  # SR at diagnosis, SR now


def test_text_from_the_patient_file_is_escaped(run, patient_file, tmp_path):
    path = patient_file(patient={"name": 'Baby <b>O\'Brien</b> & "Co"', "id": "MRN-<x>&1"})
    page = plan_html(run, path, tmp_path / "out")
    assert "<b>O" not in page and 'Baby &lt;b&gt;O&#39;Brien&lt;/b&gt; &amp; &#34;Co&#34;' in page
    assert "MRN-&lt;x&gt;&amp;1" in page
    picture = the_svg(page)  # still well-formed XML
    assert with_class(picture, "bar")
    # The file name is cleaned from the id: written inside --out, never elsewhere.
    assert [p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")] == \
        [f"MRN-_x_1_{__import__('hashlib').sha256('MRN-<x>&1'.encode()).hexdigest()[:8]}_plan_{TODAY}.html"]


def test_the_pdf_holds_the_picture_and_is_never_overwritten(run, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "plans"
    status, said, err = run("plan", EXAMPLES / "sr-moves-to-high-risk.toml", "--format", "pdf", "--out", out)
    assert status == 0, err
    pdf = out / f"MRN-100006_plan_{TODAY}.pdf"
    assert said.strip() == str(pdf)
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert len(pypdf.PdfReader(pdf).pages) == 1
    for words in ("today 1 Jun 2026", "risk group SR → HR (day-36 MRD)", "referral, no end date", "blinatumomab",
                  "after the risk group changed", "estimated dates", "2026-07-05"):  # the labels are text, the table too
        assert words in text, words
    before = pdf.read_bytes()
    status, said, err = run("plan", EXAMPLES / "sr-moves-to-high-risk.toml", "--format", "pdf", "--out", out)
    assert status == 3 and said == ""
    assert f"{pdf} is there already" in err and "never overwritten" in err
    assert pdf.read_bytes() == before
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [pdf.name]
    assert not [p for p in out.iterdir() if p.name.startswith(".partial-")]


def test_text_and_json_stay_as_they_were(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run("plan", EXAMPLES / "standard-risk.toml")
    assert status == 0 and "Awaiting: day36 MRD" in out and "<svg" not in out
    data = plan_json(run, EXAMPLES / "standard-risk.toml")
    assert set(data) == {"patient", "initial_risk", "current_risk", "phases", "awaiting", "off_protocol", "reasons", "estimated"}
    assert list(tmp_path.iterdir()) == []  # standard output only: no sheets/ folder made


def test_the_json_plan_imports_no_picture_module():
    code = ("import sys, io, contextlib\nfrom dosing.cli import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()):\n    main(['plan', {str(EXAMPLES / 'standard-risk.toml')!r}, '--format', 'json'])\n"
            "print(sorted(m for m in sys.modules if m.startswith(('dosing.pictures', 'dosing.documents', 'weasyprint', 'jinja2'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_web_page_shows_the_timeline_above_the_plan_table(tmp_path):
    pytest.importorskip("flask")
    from test_web import example_form, post

    from dosing.web import create_app

    client = create_app(tmp_path / "sheets").test_client()
    page = post(client, example_form("sr-moves-to-high-risk.toml"), "plan").get_data(as_text=True)
    section = page[page.index('<section aria-labelledby="plan-title"'):]
    assert section.index('class="picture plan-timeline"') < section.index('<table class="steps">')
    bars = [(b.get("data-phase"), b.get("data-start"), b.get("data-end")) for b in with_class(the_svg(page), "bar")]
    table = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", section[section.index('<table class="steps">'):])
    assert [(p, s, e if e != "referral" else "") for p, s, e in table] == bars
    assert html.unescape(with_class(the_svg(page), "today")[0].get("data-date")) == TODAY


def test_an_open_ended_referral_and_a_today_after_the_plan_stay_in_the_picture(run, tmp_path, monkeypatch):
    # turns-six-months: HSCT referral from 2026-08-22 with no end; today 2026-12-05 is after every estimated date:
    # the axis reaches today and the referral is drawn open to the axis's end, past it.
    monkeypatch.setenv("DOSING_TODAY", "2026-12-05")
    picture = the_svg(plan_html(run, EXAMPLES / "turns-six-months.toml", tmp_path))
    (today,) = with_class(picture, "today")
    hsct = {b.get("data-phase"): b for b in with_class(picture, "bar")}["HSCT"]
    frame = with_class(picture, "frame")[0]
    right = float(frame.get("x")) + float(frame.get("width"))
    # open to the right: the bar runs to the axis's right edge, past today
    assert float(hsct.get("x")) < float(today.get("x1")) < float(hsct.get("x")) + float(hsct.get("width")) == pytest.approx(right)
    assert date.fromisoformat(today.get("data-date")) - date(2026, 8, 22) == timedelta(days=105)


def test_a_move_to_high_risk_after_hr1_and_an_off_protocol_plan(run, patient_file, tmp_path):
    # IR (rearranged, CNS1), day-36 PCR 0.5 % -> HR1; after HR1 PCR 0.2 % still positive -> HR: blinatumomab, HSCT.
    # The change is drawn where blinatumomab starts, named by the result that decided it.
    path = patient_file(disease={"kmt2a": "rearranged", "cns": "CNS1"},
                        mrd=[{"timepoint": "day36", "value": "0.5 %", "method": "PCR"},
                             {"timepoint": "after_HR1", "value": "0.2 %", "method": "PCR"}])
    expected = plan_json(run, path)
    assert expected["phases"] == ["induction", "HR1", "blinatumomab", "HSCT"]
    picture = the_svg(plan_html(run, path, tmp_path / "a"))
    (change,) = with_class(picture, "risk-change")
    assert (change.get("data-from"), change.get("data-to")) == ("IR", "HR")
    assert change.get("data-date") == expected["estimated"][2]["start"]
    assert with_class(picture, "risk-change-label")[0].text == "risk group IR → HR (MRD after HR1)"
    # HR (CNS3), in remission on day 36, not after HR1: off protocol after HR1, a black stop block the day after its end.
    path = patient_file("off.toml", disease={"kmt2a": "rearranged", "cns": "CNS3"},
                        remission=[{"timepoint": "day36", "in_remission": True}, {"timepoint": "after_HR1", "in_remission": False}])
    expected = plan_json(run, path)
    assert expected["off_protocol"] and expected["phases"] == ["induction", "HR1"]
    picture = the_svg(plan_html(run, path, tmp_path / "b"))
    (stop,) = with_class(picture, "off-protocol")
    assert stop.get("data-date") == expected["estimated"][-1]["end"] and stop.get("fill") == "#000"
    frame = with_class(picture, "frame")[0]
    assert float(stop.get("x")) + float(stop.get("width")) < float(frame.get("x")) + float(frame.get("width"))
    assert "OFF PROTOCOL: nothing further is planned" in [t.text for t in picture.iter(f"{SVG}text")]
