"""Blinatumomab's course as a strip on the bag schedule (issue 19, item 4): every bag and bag change read back from the
SVG at the hours the schedule lists, and an interruption drawn as a labelled gap."""

import json
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from pypdf import PdfReader

from conftest import EXAMPLES
from dosing.pictures.svg import NS

PATIENT = EXAMPLES / "sr-moves-to-high-risk.toml"  # moves to high risk: blinatumomab from 2026-07-06, 8.1 kg
COURSE = ["--start", "2026-07-06", "--infusion-start", "10:00", "--today", "2026-07-06"]
SVG = "{http://www.w3.org/2000/svg}"


def strip_of(html: str) -> ET.Element:
    start = html.index("<svg", html.index('class="infusion-strip"'))
    return ET.fromstring(html[start:html.index("</svg>", start) + 6])


def of_class(svg, cls):
    return [e for e in svg.iter() if e.get("class") == cls]


def hours(at: str, first: str) -> float:
    return (datetime.fromisoformat(at) - datetime.fromisoformat(first)).total_seconds() / 3600


def listed(run, *args, command="sheet") -> dict:
    """The bags as the schedule lists them (the JSON orders' `bags`)."""
    status, out, err = run(command, PATIENT, "--phase", "blinatumomab", *args, "--format", "json") if command == "sheet" else \
        run(command, PATIENT, *args, "--format", "json")
    assert status == 0, err
    return json.loads(out)


def html_of(run, tmp_path, *args, command="sheet") -> str:
    extra = ["--phase", "blinatumomab", "--documents", "infusion"] if command == "sheet" else []
    status, _, err = run(command, PATIENT, *extra, *args, "--format", "html", "--out", tmp_path)
    assert status == 0, err
    (page,) = tmp_path.glob("*_infusion.html")
    return page.read_text(encoding="utf-8")


def test_each_bag_and_each_change_at_the_hours_the_schedule_lists(run, tmp_path):
    bags = listed(run, *COURSE)["bags"]
    first = bags[0]["start"]
    svg = strip_of(html_of(run, tmp_path, *COURSE))
    drawn = [(int(b.get("data-bag")), float(b.get("data-from-hour")), float(b.get("data-to-hour"))) for b in of_class(svg, "bag")]
    assert drawn == [(b["number"], hours(b["start"], first), hours(b["start"], first) + b["hours"]) for b in bags]
    # 28 bags of 24 hours: 0 to 672 hours, a change every 24 hours from the second bag, 27 in all
    assert len(drawn) == 28 and drawn[-1][2] == 672
    changes = [float(c.get("data-hour")) for c in of_class(svg, "change")]
    assert changes == [24.0 * n for n in range(1, 28)]
    title = of_class(svg, "change")[0].find("svg:title", NS).text
    assert title == "bag change at 24 h: Tue 7 Jul 10:00"
    # each change sits under the boundary between two bags, on the strip's own scale
    box = {int(b.get("data-bag")): b for b in of_class(svg, "bag")}
    for change in of_class(svg, "change"):
        bag = box[int(change.get("data-bag"))]
        assert float(change.get("data-x")) == pytest.approx(float(bag.get("x")), abs=0.01)


def test_an_interruption_is_a_labelled_gap_and_the_bags_restart_after_it(run, tmp_path):
    # Started Mon 6 Jul 10:00, stopped Sun 12 Jul 14:30 (148.5 hours given), restarted Mon 13 Jul 09:00: 18.5 hours off.
    times = ["--stopped", "2026-07-12 14:30", "--restart", "2026-07-13 09:00"]
    data = listed(run, *COURSE, *times, command="blinatumomab-resume")
    assert (data["infused_hours"], data["interruption_hours"]) == (148.5, 18.5)
    svg = strip_of(html_of(run, tmp_path, *COURSE, *times, command="blinatumomab-resume"))
    (given,) = of_class(svg, "given")
    (gap,) = of_class(svg, "interruption")
    assert (float(given.get("data-from-hour")), float(given.get("data-to-hour"))) == (0, 148.5)
    assert (float(gap.get("data-from-hour")), float(gap.get("data-to-hour"))) == (148.5, 167)
    assert gap.find("svg:title", NS).text == "interrupted 18.5 h: stopped Sun 12 Jul 14:30, restarted Mon 13 Jul 09:00"
    words = [t.text for t in svg.iter(f"{SVG}text")]
    assert "STOPPED 18.5 h" in words and "given 148.5 h" in words
    # the bags after it, at the hours the new schedule lists, counted from the course's first bag (restart = 167 h)
    drawn = [(float(b.get("data-from-hour")), float(b.get("data-to-hour"))) for b in of_class(svg, "bag")]
    assert drawn == [(167 + hours(b["start"], data["bags"][0]["start"]), 167 + hours(b["start"], data["bags"][0]["start"]) + b["hours"])
                     for b in data["bags"]]
    assert drawn[-1][1] == 672 + 18.5  # 672 hours of infusion in all, and the gap
    assert [float(c.get("data-hour")) for c in of_class(svg, "change")][0] == 167  # the restart is marked too
    assert of_class(svg, "change")[0].find("svg:title", NS).text == "restart at 167 h: Mon 13 Jul 09:00"


def test_a_new_course_says_so(run, tmp_path):
    times = ["--stopped", "2026-07-08 10:00", "--restart", "2026-07-16 10:00"]  # 8 days off: longer than 7, a new course
    svg = strip_of(html_of(run, tmp_path, *COURSE, *times, "--override-dates", "restarted after an 8-day stop, as agreed",
                           command="blinatumomab-resume"))
    assert "STOPPED 192 h: new course" in [t.text for t in svg.iter(f"{SVG}text")]
    assert float(of_class(svg, "bag")[-1].get("data-to-hour")) == 48 + 192 + 672


def test_the_infusion_schedule_pdf_holds_the_strip(run, tmp_path):
    status, _, err = run("sheet", PATIENT, "--phase", "blinatumomab", *COURSE, "--documents", "infusion", "--out", tmp_path)
    assert status == 0, err
    (pdf,) = tmp_path.glob("*_infusion.pdf")
    text = " ".join(PdfReader(pdf).pages[0].extract_text().split())
    for words in ("first bag up Mon 6 Jul 10:00", "last bag down Mon 3 Aug 10:00", "672 h later, to scale", "28", "6 Jul"):
        assert words in text, words
