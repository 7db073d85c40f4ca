"""The nurse's calendar and bedside administration record, read back from the real PDFs."""

import json
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from pypdf import PdfReader

import writing
from conftest import EXAMPLES
from dosing.cli import main

# (patient, phase, start, extra options)
CASES = [
    ("turns-one-year.toml", "induction", "2026-06-01", []),
    ("standard-risk.toml", "HR1", "2026-07-10", ["--infusion-start", "22:00"]),
    ("standard-risk.toml", "protocol_II", "2026-09-01", []),
    ("standard-risk.toml", "maintenance", "2026-12-01", []),
    ("kmt2a-rearranged.toml", "blinatumomab", "2026-07-06", ["--bag-hours", "48", "--infusion-start", "10:00"]),
]
OVERRIDE = ["--override-pathway", "nursing documents test for this phase",
            "--override-dates", "nursing documents test: the measurement at diagnosis for every phase"]
NAMES = {"vincristine": "vinCRIStine", "daunorubicin": "DAUNOrubicin", "doxorubicin": "DOXOrubicin",
         "pegaspargase": "PEG-asparaginase (pegaspargase)", "folinic_acid": "folinic acid"}


def written(value) -> str:
    return format(Decimal(repr(value)).normalize(), ",f")


def pages(path):
    return [" ".join(p.extract_text().split()) for p in PdfReader(path).pages]


@pytest.fixture(scope="module", params=CASES, ids=[f"{c[1]}" for c in CASES])
def produced(request, tmp_path_factory, capsys_module=None):
    patient, phase, start, extra = request.param
    out = tmp_path_factory.mktemp(phase)
    args = ["sheet", str(EXAMPLES / patient), "--phase", phase, "--start", start, *OVERRIDE, *extra]
    assert main([*args, "--out", str(out), "--documents", "calendar,record"]) == 0
    json_out = out / "orders.json"
    import contextlib
    import io
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main([*args, "--format", "json"]) == 0
    json_out.write_text(buffer.getvalue())
    return out, json.loads(buffer.getvalue())


def document(out, kind):
    (path,) = out.glob(f"*_{kind}.pdf")
    return path


def test_only_the_documents_asked_for(produced):
    out, _ = produced
    assert sorted(p.name.rsplit("_", 1)[1] for p in out.glob("*.pdf")) == ["administration-record.pdf", "calendar.pdf"]


def test_calendar_is_landscape_with_the_patient_on_every_page(produced):
    out, data = produced
    path = document(out, "calendar")
    box = PdfReader(path).pages[0].mediabox
    assert float(box.width) > float(box.height)  # A4 landscape: 842 × 595 points
    text = pages(path)
    for number, page in enumerate(text, start=1):
        assert data["patient"]["id"] in page and f"Page {number} of {len(text)}" in page


def test_every_administration_is_on_the_calendar(produced):
    out, data = produced
    text = " ".join(pages(document(out, "calendar")))
    # The text of a day runs from its date (YYYY-MM-DD) to the next date.
    days = dict(re.findall(r"(\d{4}-\d{2}-\d{2}) (.*?)(?=\d{1,2} [A-Z][a-z]{2}(?: · day \d+)? \d{4}-\d{2}-\d{2}|Legend:|$)", text))
    for a in data["administrations"]:
        name = NAMES.get(a["drug"], a["drug"])
        dose = written(a["dose"] if a.get("continuous") else a["dose_each"])
        assert f"{name} {dose} {a['unit']}" in days[a["date"]], (a["date"], name, dose)
    for bag in data.get("bags", []):
        assert f"bag {bag['number']} up {bag['start'][11:]}" in days[bag["start"][:10]]


def record_rows(a) -> list[str]:
    """The text of the record's rows for one administration, date to route.

    Planned time: the protocol's clock time where it sets one, "all day" for a continuous
    infusion, and blank otherwise (the ward writes its own time); a dose given several times
    a day without a clock says which it is, "dose 1 of 3", after the drug's name.
    """
    name = NAMES.get(a["drug"], a["drug"])
    if a.get("continuous"):
        return [f"{a['date']} {a['day']} all day {name} {written(a['dose'])} {a['unit']} a day {a['route']}"]
    dose = f"{written(a['dose_each'])} {a['unit']} {a['route']}"
    if a.get("times"):
        return [f"{a['date']} {a['day']} {clock} {name} {dose}" for clock in a["times"]]
    if a["times_per_day"] > 1:
        return [f"{a['date']} {a['day']} {name} dose {i} of {a['times_per_day']} {dose}" for i in range(1, a["times_per_day"] + 1)]
    return [f"{a['date']} {a['day']} {name} {dose}"]


def test_every_dose_has_a_row_in_the_record(produced):
    out, data = produced
    text = pages(document(out, "administration-record"))
    joined = " ".join(text)
    for a in data["administrations"]:
        if a["route"] == "INTRATHECAL":  # their own table, without a planned time
            name = NAMES.get(a["drug"], a["drug"])
            expected = [f"{a['date']} {a['day']} {name} {written(a['dose_each'])} {a['unit']} INTRATHECAL"]
        else:
            expected = record_rows(a)
        for row in expected:
            assert joined.count(row) == 1, row
    for bag in data.get("bags", []):
        date, clock = bag["start"].split("T")
        row = rf"{date} \d+ {clock} bag {bag['number']}: blinatumomab {re.escape(written(bag['dose_mcg']))} mcg IV"
        assert len(re.findall(row, joined)) == 1, row
    # The Planned column, right after the day number, never holds a count ("1 of 3" is not a time).
    assert not re.search(r"\d{4}-\d{2}-\d{2} \d+ \d+ of \d+", joined)
    for number, page in enumerate(text, start=1):
        assert data["patient"]["id"] in page and f"Page {number} of {len(text)}" in page
        assert writing.vinca_and_intrathecal_apart(page)
    assert writing.problems(joined) == []


def test_calendar_writing(produced):
    out, _ = produced
    assert writing.problems(" ".join(pages(document(out, "calendar")))) == []


def test_each_warning_is_an_item_of_its_own(produced):
    # A list, one warning per item: each starts a line of its own (on the calendar they once ran
    # on as one paragraph, " · " between them). The calendar shows every warning of the phase.
    out, data = produced
    assert data["warnings"]
    lines = [" ".join(line.split()) for page in PdfReader(document(out, "calendar")).pages for line in page.extract_text().splitlines()]
    for warning in data["warnings"]:
        start = " ".join(warning.split())[:30]
        assert any(line.startswith(start) for line in lines), warning


def test_no_text_runs_out_of_its_box(tmp_path):
    # The layout itself: a header that ran into the next column ("Planned" into "Drug"), or the
    # INTRATHECAL route over the next box, is a fault the text of the PDF cannot show.
    import layout

    args = ["sheet", str(EXAMPLES / "turns-one-year.toml"), "--phase", "induction", "--start", "2026-06-01", "--format", "html",
            "--out", str(tmp_path), "--documents", "record,intrathecal,calendar"]
    assert main(args) == 0
    made = sorted(tmp_path.glob("*.html"))
    assert len(made) == 3
    for path in made:
        assert layout.faults(path.read_text(encoding="utf-8")) == [], path.name


def test_a_rendered_page_is_not_blank(produced, tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.skip("poppler's pdftoppm is not installed (.ci/run installs poppler-utils)")
    from PIL import Image

    out, _ = produced
    for kind in ("calendar", "administration-record"):
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(document(out, kind)), str(tmp_path / kind)], check=True)
        (png,) = tmp_path.glob(f"{kind}*.png")
        image = Image.open(png).convert("L")
        dark = sum(1 for value in image.tobytes() if value < 128)  # one byte per pixel in "L"
        assert dark / (image.width * image.height) > 0.01  # text and rules, not an empty page
