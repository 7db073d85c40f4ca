"""The web page end to end in a real, headless Chromium, driven by Playwright.

Debian's chromium is used as it is (`executable_path`), so nothing is
downloaded; `.ci/run` installs it and sets DOSING_REQUIRE_BROWSER=1, so in CI a
missing browser fails these tests instead of skipping them.
"""

import io
import tomllib

import pytest

pytest.importorskip("flask", reason="the web extra is not installed: pip install '.[web]'")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install '.[test]'")

from pypdf import PdfReader  # noqa: E402

from dosing import patient as patients  # noqa: E402
from dosing.web.serving import make_server  # noqa: E402

from conftest import EXAMPLES  # noqa: E402
from tests import serving  # noqa: E402
from tests.chromium import browser, require  # noqa: E402,F401 (browser: the fixture)

require()


@pytest.fixture
def site(tmp_path, monkeypatch):
    """The page served as `dosing serve` serves it (waitress) on a free loopback port, writing into a fresh folder."""
    monkeypatch.chdir(tmp_path)  # no pharmacy.sqlite here: the single-user page
    out = tmp_path / "sheets"
    server, _ = make_server("127.0.0.1", 0, out, None)
    stop = serving.start(server)
    yield f"http://127.0.0.1:{server.effective_port}/", out
    stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


def box(page, name: str):
    return page.locator(f'[id="{name}"]')


def fill_in_novak(page):
    """A new infant, typed in as a pharmacist would."""
    box(page, "patient.id").fill("MRN-200001")
    box(page, "patient.name").fill("Novak, Ada")
    box(page, "patient.sex").select_option("female")
    box(page, "patient.birth_date").fill("2026-01-05")
    box(page, "patient.diagnosis_date").fill("2026-05-18")
    box(page, "disease.kmt2a").select_option("germline")
    box(page, "disease.cns").select_option("CNS1")
    box(page, "patient.no_known_allergies").check()
    box(page, "measurements[1].date").fill("2026-05-18")
    box(page, "measurements[1].weight").fill("5.8 kg")
    box(page, "measurements[1].length").fill("60 cm")


def pdf_text(path) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)


def test_fill_in_an_infant_see_the_plan_preview_and_download_the_induction_pdfs(page, site, tmp_path):
    url, out = site
    page.goto(url)
    fill_in_novak(page)
    page.get_by_role("button", name="Check and show the plan").click()
    # Germline KMT2A, CNS1: standard risk, and the next decision waits for the day-36 MRD.
    plan = page.locator("section.plan")
    assert "Risk group: SR at diagnosis, SR now." in plan.inner_text()
    assert "Awaiting: day36 MRD" in plan.inner_text()
    assert plan.bounding_box()["y"] < 900, "the plan is seen without scrolling, above the long form"
    assert page.get_by_role("button", name="Issue PDFs").count() == 0, "nothing to issue before a preview"

    box(page, "sheet.phase").select_option("induction")
    box(page, "sheet.start").fill("2026-05-20")
    page.get_by_role("button", name="Preview sheets").click()
    warnings = page.locator("section.warnings")
    assert warnings.is_visible()
    assert warnings.bounding_box()["y"] < 900
    assert "DRAFT: the orders use placeholder values" in warnings.inner_text()
    # Novak, 5.8 kg, 60 cm: BSA = √(60 × 5.8 / 3600) = √0.096667 = 0.310913 -> 0.3109 m² (to 0.0001 m²). Born 2026-01-05:
    # 4 months on day 1 (2026-05-20), 5 months on day 36: 2/3 throughout induction.
    # vinCRIStine 1.5 × 0.31091 × 2/3 = 0.31091 -> 0.31 mg
    orders = page.frame_locator('iframe[title="Chemotherapy orders"]').first.locator("body")
    assert "0.31 mg" in orders.inner_text()
    assert not list(out.glob("*.pdf")), "a preview writes nothing"

    # A box changed after the preview: Issue refuses, and asks for a new preview; the preview of what is typed now can be issued.
    box(page, "measurements[1].length").fill("61 cm")
    page.get_by_role("button", name="Issue PDFs").click()
    assert "have not been previewed" in page.locator("section.problems").inner_text()
    assert page.get_by_role("button", name="Issue PDFs").count() == 0 and not out.exists()
    box(page, "measurements[1].length").fill("60 cm")
    page.get_by_role("button", name="Preview sheets").click()
    page.get_by_role("button", name="Issue PDFs").click()
    page.locator("section.issued").wait_for()
    links = page.locator("section.issued a")
    assert links.all_inner_texts() == [f"MRN-200001_induction_2026-05-20_{kind}.pdf"
                                       for kind in ("orders", "intrathecal", "calendar", "administration-record")]
    with page.expect_download() as download:
        links.first.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    text = pdf_text(saved)
    assert "Novak, Ada" in text and "BSA 0.3109 m²" in text
    assert "0.31 mg IV 1.5 mg/m² × 0.3109 m² × 2/3" in text  # vinCRIStine, as above
    # DAUNOrubicin 30 × 0.31091 × 2/3 = 6.2183 -> 6.2 mg
    assert "6.2 mg IV 30 mg/m² × 0.3109 m² × 2/3" in text
    # PEG-asparaginase 1,000 × 0.31091 × 2/3 = 207.27 units -> 41.45 steps of 5 -> 205 units
    assert "205 units IV 1,000 units/m² × 0.3109 m²" in text
    # dexamethasone days 1-28: 6 × 0.31091 × 2/3 ÷ 3 = 0.41455 -> 8.29 steps of 0.05 -> 0.4 mg three times a day
    assert "0.4 mg PO three times" in text
    with page.expect_download() as download:
        links.nth(1).click()
    download.value.save_as(tmp_path / "it.pdf")
    # INTRATHECAL under 12 months on every puncture: methotrexate 6 mg, cytarabine 16 mg.
    spinal = pdf_text(tmp_path / "it.pdf")
    assert "INTRATHECAL" in spinal and "6 mg" in spinal and "16 mg" in spinal
    assert page.dialogs == []


def test_a_field_error_appears_beside_the_field(page, site):
    url, out = site
    page.goto(url)
    fill_in_novak(page)
    box(page, "measurements[1].weight").fill("58 kg")  # 5.8 kg mistyped
    page.get_by_role("button", name="Check and show the plan").click()
    error = page.locator('td:has([id="measurements[1].weight"]) [id="error-measurements[1].weight"]')
    assert error.is_visible()
    assert "58.0 kg is outside 0.3-30 kg" in error.inner_text()
    assert box(page, "measurements[1].weight").get_attribute("aria-invalid") == "true"
    assert box(page, "measurements[1].weight").input_value() == "58 kg"  # what was typed is kept to correct
    assert page.locator("section.plan").count() == 0
    assert not out.exists()


def test_enter_in_a_box_shows_the_plan(page, site):
    url, _ = site
    page.goto(url)
    fill_in_novak(page)
    box(page, "measurements[1].length").press("Enter")
    assert "Risk group: SR at diagnosis, SR now." in page.locator("section.plan").inner_text()


def test_open_a_file_add_an_mrd_result_and_the_plan_moves(page, site):
    url, _ = site
    page.goto(url)
    page.set_input_files("#patient_file", str(EXAMPLES / "standard-risk.toml"))
    page.get_by_role("button", name="Open").click()
    assert box(page, "patient.name").input_value() == "Petrov, Mikhail"
    assert "SR now" in page.locator("section.plan").inner_text()
    page.get_by_role("button", name="Add MRD result").click()
    box(page, "mrd[1].timepoint").wait_for()
    box(page, "mrd[1].timepoint").select_option("day36")
    box(page, "mrd[1].method").select_option("flow")
    box(page, "mrd[1].value").fill("0.1 %")
    page.get_by_role("button", name="Add remission assessment").click()
    box(page, "remission[1].timepoint").wait_for()
    box(page, "remission[1].timepoint").select_option("day36")
    box(page, "remission[1].in_remission").select_option("true")
    page.get_by_role("button", name="Check and show the plan").click()
    plan = page.locator("section.plan").inner_text()
    # Day-36 MRD of exactly 0.1 % is high risk (0.1 % or more): blinatumomab, then HSCT.
    assert "SR at diagnosis, HR now" in plan
    assert "blinatumomab" in plan and "HSCT" in plan


def test_download_the_patient_file_the_form_wrote(page, site, tmp_path):
    url, _ = site
    page.goto(url)
    fill_in_novak(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download patient file").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "MRN-200001.toml"
    data = tomllib.loads(saved.read_text(encoding="utf-8"))
    assert data["measurements"] == [{"date": __import__("datetime").date(2026, 5, 18), "weight": "5.8 kg", "length": "60 cm"}]
    assert patients.load(saved).allergies == ()


def test_what_is_typed_is_shown_never_run(page, site):
    url, _ = site
    page.goto(url)
    fill_in_novak(page)
    box(page, "patient.name").fill('<img src=x onerror="alert(1)">')
    box(page, "patient.id").fill('"><script>alert(2)</script>')
    page.get_by_role("button", name="Check and show the plan").click()
    box(page, "sheet.start").fill("2026-05-20")
    page.get_by_role("button", name="Preview sheets").click()
    assert box(page, "patient.name").input_value() == '<img src=x onerror="alert(1)">'
    frame = page.frame_locator('iframe[title="Chemotherapy orders"]').first
    assert '<img src=x onerror="alert(1)">' in frame.locator("body").inner_text()
    assert page.dialogs == []


def test_add_a_neutrophil_count_and_a_genotype_preview_and_download_them(page, site, tmp_path):
    url, out = site
    page.goto(url)
    fill_in_novak(page)
    # The day before induction starts: neutrophils 1.2 × 10^9/L at 07:30; TPMT intermediate, NUDT15 left unknown.
    box(page, "labs[1].date").fill("2026-05-19")
    box(page, "labs[1].time").fill("07:30")
    box(page, "labs[1].test").select_option("anc")
    box(page, "labs[1].value").fill("1.2 10^9/L")
    box(page, "genotype.tpmt").select_option("intermediate")
    box(page, "medications[1].name").fill("co-trimoxazole")
    page.get_by_role("button", name="Check and show the plan").click()
    box(page, "sheet.phase").select_option("induction")
    box(page, "sheet.start").fill("2026-05-20")
    page.get_by_role("button", name="Preview sheets").click()
    page.locator("section.preview").wait_for()
    assert page.locator("section.problems").count() == 0
    assert box(page, "labs[1].value").input_value() == "1.2 10^9/L"  # the form comes back as typed
    assert not list(out.glob("*.pdf")), "a preview writes nothing"
    with page.expect_download() as download:
        page.get_by_role("button", name="Download patient file").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    data = tomllib.loads(saved.read_text(encoding="utf-8"))
    assert data["labs"] == [{"date": __import__("datetime").date(2026, 5, 19), "time": "07:30", "test": "anc", "value": "1.2 10^9/L"}]
    assert data["genotype"] == {"tpmt": "intermediate"}
    assert data["medications"] == [{"name": "co-trimoxazole"}]
    loaded = patients.load(saved)
    assert [(lab.test, lab.value.magnitude, str(lab.taken)) for lab in loaded.labs] == [("anc", 1.2, "2026-05-19 07:30:00")]
    assert (loaded.genotype.tpmt, loaded.genotype.nudt15) == ("intermediate", None)
    assert page.dialogs == []


def test_the_blinatumomab_section_appears_only_for_a_patient_on_blinatumomab(page, site):
    url, _ = site
    page.goto(url)
    page.set_input_files("#patient_file", str(EXAMPLES / "standard-risk.toml"))
    page.get_by_role("button", name="Open").click()
    assert "SR now" in page.locator("section.plan").inner_text()
    interruption = page.get_by_role("heading", name="Blinatumomab: after an interruption")
    assert interruption.count() == 0
    # Day-36 MRD 0.1 %: high risk, so blinatumomab joins the plan, and with it the section for an interrupted infusion.
    page.set_input_files("#patient_file", str(EXAMPLES / "sr-moves-to-high-risk.toml"))
    page.get_by_role("button", name="Open").click()
    assert "blinatumomab" in page.locator("section.plan").inner_text()
    assert interruption.is_visible() and box(page, "sheet.stopped").is_visible()
    # The MRD row emptied: standard risk again, and the section goes.
    box(page, "mrd[1].value").fill("")
    box(page, "mrd[1].timepoint").select_option("")
    box(page, "mrd[1].method").select_option("")
    page.get_by_role("button", name="Check and show the plan").click()
    assert "blinatumomab" not in page.locator("section.plan").inner_text()
    assert interruption.count() == 0
