"""The printed sheets, read back from the real PDFs the command writes.

One run of `dosing sheet` over every example (module scope: PDFs take about a
second each); then what a pharmacist and a nurse must find on the paper.
"""

import re

import pytest
from pypdf import PdfReader

import writing
from conftest import EXAMPLES
from dosing.cli import main

START = "2026-06-01"


@pytest.fixture(scope="module")
def sheets(tmp_path_factory):
    out = tmp_path_factory.mktemp("sheets")
    assert main(["sheet", *map(str, sorted(EXAMPLES.glob("*.toml"))), "--phase", "induction", "--start", START, "--out", str(out),
                 "--documents", "orders,intrathecal"]) == 0
    return out


def pages(path) -> list[str]:
    """Each page's text, white space folded (table cells wrap lines anywhere)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def sheet(sheets, patient_id, kind):
    return pages(sheets / f"{patient_id}_induction_{START}_{kind}.pdf")


EXAMPLE_IDS = ["MRN-100001", "MRN-100002", "MRN-100003", "MRN-100004", "MRN-100005", "MRN-100006"]


def test_one_order_sheet_and_one_intrathecal_sheet_per_infant(sheets):
    names = sorted(p.name for p in sheets.glob("*.pdf"))
    assert names == sorted(f"{i}_induction_{START}_{kind}.pdf" for i in EXAMPLE_IDS for kind in ("orders", "intrathecal"))
    assert (sheets / "issue-log.sqlite").exists()
    for path in sheets.glob("*.pdf"):
        assert path.read_bytes().startswith(b"%PDF")
        # A4 portrait: 595 × 842 points
        box = PdfReader(path).pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)


@pytest.mark.parametrize("patient_id, name", [("MRN-100001", "Petrov, Mikhail"), ("MRN-100004", "Novak, Sara")])
@pytest.mark.parametrize("kind", ["orders", "intrathecal"])
def test_identity_and_page_numbers_on_every_page(sheets, patient_id, name, kind):
    text = sheet(sheets, patient_id, kind)
    for number, page in enumerate(text, start=1):
        assert name in page and patient_id in page
        assert f"Page {number} of {len(text)}" in page


def test_order_sheet_content(sheets):
    text = " ".join(sheet(sheets, "MRN-100001", "orders"))
    for expected in [
        "ALL-Baby-2021", "Induction", "day 1 Mon 1 Jun 2026", "day 36 Mon 6 Jul 2026",
        "Date of birth Tue 20 Jan 2026", "No known allergies",
        "Weight 6.4 kg", "Length 62 cm", "Measured Fri 29 May 2026", "BSA 0.332 m²", "Mosteller",
        # the working, as the issue writes it: basis × BSA × fraction (age) = calculated, rounded.
        # Petrov: 6.4 kg, 62 cm, so BSA √(62 × 6.4 / 3600) = 0.33200 m²; born 2026-01-20, 4 months on
        # 1 Jun 2026, so 2/3. 1.5 × 0.332 × 2/3 = 0.332 -> 0.33 mg; 30 × 0.332 × 2/3 = 6.64 -> 6.6 mg;
        # 1,000 × 0.332 × 2/3 = 221.3 -> 220 units; 6 × 0.332 × 2/3 ÷ 3 = 0.4427 -> 0.45 mg per dose.
        # Each line names the rule that gives its final figure (issue 12): the step it is rounded to.
        "1.5 mg/m² × 0.332 m² × 2/3 (age 4 months) = 0.332 mg; rounded half up to the 0.01 mg step: 0.33 mg",
        "30 mg/m² × 0.332 m² × 2/3 (age 4 months) = 6.64 mg; rounded half up to the 0.1 mg step: 6.6 mg",
        "1,000 units/m² × 0.332 m² × 2/3 (age 4 months) = 221.3 units; rounded half up to the 5 units step: 220 units",
        "6 mg/m²/day × 0.332 m² × 2/3 (age 4 months) ÷ 3 doses = 0.4427 mg; rounded half up to the 0.05 mg step: 0.45 mg per dose",
        "vinCRIStine: FOR INTRAVENOUS USE ONLY – FATAL IF GIVEN BY OTHER ROUTES",
        "DAUNOrubicin – intravenous (IV), over 1 hour",
        "Prescriber", "Pharmacist verification", "Nurse 1", "Nurse 2",
        "REFERENCE VALUES – NOT VERIFIED AGAINST THE PROTOCOL DOCUMENT",
        "Values not verified against the protocol document",
    ]:
        assert expected in text, expected


def test_allergies_are_printed(sheets):
    assert "co-trimoxazole (rash)" in " ".join(sheet(sheets, "MRN-100002", "orders"))


def test_age_change_is_on_the_sheet(sheets):
    text = " ".join(sheet(sheets, "MRN-100003", "orders"))
    # day 20 on, 3/4: 1.5 × 0.3696 × 3/4 = 0.4158 -> 0.42 mg. The BSA printed is the BSA used, to
    # the digits used (issue 12): √(66 × 7.45 / 3600) = 0.369572 -> 0.3696 m², not "0.37".
    assert "1.5 mg/m² × 0.3696 m² × 3/4 (age 6 months) = 0.4158 mg; rounded half up to the 0.01 mg step: 0.42 mg" in text
    assert "BSA 0.3696 m²" in text
    assert "WARNINGS" in text and "infant fraction changes inside this phase from day 20" in text


def test_intrathecal_sheet_content(sheets):
    text = " ".join(sheet(sheets, "MRN-100004", "intrathecal"))
    assert "INTRATHECAL USE ONLY" in text and "preservative-free" in text
    assert "DRAFT" in text  # the dexamethasone column is a placeholder (?)
    # Novak, born 2025-06-10: 11 months on days 1 and 8 (under 12 months: methotrexate 6 mg, cytarabine
    # 16 mg); 12 months from day 10, so from the lumbar puncture on day 15: methotrexate 8 mg, cytarabine 20 mg
    # The volume to draw up of each preservative-free product: 8 mg ÷ 25 mg/mL = 0.32 mL; 16 mg ÷ 20 mg/mL = 0.8 mL.
    assert "methotrexate 8 mg 0.32 mL of preservative-free methotrexate injection 25 mg/mL INTRATHECAL 12 to under 24 months" in text
    assert "cytarabine 16 mg 0.8 mL of preservative-free cytarabine injection 20 mg/mL INTRATHECAL under 12 months" in text


@pytest.mark.parametrize("patient_id", EXAMPLE_IDS)
def test_intrathecal_and_vinca_never_share_a_page(sheets, patient_id):
    for page in sheet(sheets, patient_id, "orders"):
        assert "INTRATHECAL" not in page.upper()
    for page in sheet(sheets, patient_id, "intrathecal"):
        assert not re.search(r"vincristine|vindesine|vinblastine", page, re.IGNORECASE)


@pytest.mark.parametrize("patient_id", EXAMPLE_IDS)
@pytest.mark.parametrize("kind", ["orders", "intrathecal"])
def test_ismp_writing(sheets, patient_id, kind):
    assert writing.problems(" ".join(sheet(sheets, patient_id, kind))) == []


def test_never_overwrites_an_issued_sheet(sheets, capsys):
    path = sheets / f"MRN-100001_induction_{START}_orders.pdf"
    before = path.read_bytes()
    status = main(["sheet", str(EXAMPLES / "standard-risk.toml"), "--phase", "induction", "--start", START, "--out", str(sheets),
                   "--documents", "orders,intrathecal"])
    assert status == 3
    assert "already issued" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert not list(sheets.glob(".partial*"))


def test_html_escapes_and_file_names_cannot_escape(tmp_path, patient_file, capsys):
    hostile = patient_file(patient={"id": "../../etc/passwd", "name": "<script>alert(1)</script> <img src=file:///etc/passwd>"})
    out = tmp_path / "out"
    assert main(["sheet", str(hostile), "--phase", "induction", "--start", "2026-05-05", "--out", str(out), "--format", "html",
                 "--documents", "orders,intrathecal"]) == 0
    written = sorted(out.glob("*.html"))
    # Cleaned, and tagged with 8 hex digits of SHA-256("../../etc/passwd"), so no other id shares the name (dosing.output.safe_id)
    assert [p.name for p in written] == ["etc_passwd_3754d6cb_induction_2026-05-05_intrathecal.html",
                                         "etc_passwd_3754d6cb_induction_2026-05-05_orders.html"]
    html = written[1].read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html


def test_pdf_fetches_nothing(tmp_path, patient_file):
    # An image URL in the name is text on the sheet, never fetched into the PDF.
    hostile = patient_file(patient={"name": "<img src='file:///etc/hostname'>"})
    out = tmp_path / "out"
    assert main(["sheet", str(hostile), "--phase", "induction", "--start", "2026-05-05", "--out", str(out), "--documents", "orders"]) == 0
    pdf = next(out.glob("*_orders.pdf"))
    assert "<img src='file:///etc/hostname'>" in " ".join(pages(pdf))
    assert b"/Image" not in pdf.read_bytes()
