"""The web page through Flask's test client: the same engine as the command line, and safe by default."""

import datetime
import io
import json
import re
import tomllib

import pytest

pytest.importorskip("flask", reason="the web extra is not installed: pip install '.[web]'")

from conftest import EXAMPLES, main  # noqa: E402

from dosing import patient as patients  # noqa: E402
from dosing.issue_log import IssueLog  # noqa: E402
from dosing.web import create_app, form_values, patient_data, patient_toml  # noqa: E402


@pytest.fixture
def app(tmp_path):
    return create_app(tmp_path / "sheets")


@pytest.fixture
def client(app):
    return app.test_client()


def token(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r'name="token" value="([^"]+)"', page)[1]


def example_form(name: str) -> dict:
    """The form as a browser would post it after opening an example file."""
    with open(EXAMPLES / name, "rb") as stream:
        return form_values(tomllib.load(stream))


def post(client, form: dict, action: str, **extra):
    return client.post("/", data={**form, "token": token(client), "action": action, **extra})


def previewed(client, form: dict) -> str:
    """The fingerprint a preview of `form` puts beside its Issue button (the hidden field `previewed`)."""
    page = post(client, form, "preview").get_data(as_text=True)
    return re.search(r'<input type="hidden" name="previewed" value="([0-9a-f]{64})">', page)[1]


def issue(client, form: dict):
    """Preview, then press Issue PDFs, as a pharmacist does."""
    return post(client, form, "issue", previewed=previewed(client, form))


def test_the_form_writes_the_file_the_command_line_reads(tmp_path):
    # Opening a file and saving it again gives a file that loads to the same patient: every example, those with
    # [[labs]], [genotype] and [[medications]] included.
    names = sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.toml"))
    assert any(patients.load(EXAMPLES / name).labs for name in names)
    for name in names:
        original = patients.load(EXAMPLES / name)
        data, _ = patient_data(example_form(name))
        written = tmp_path / name.replace("/", "_")
        written.write_text(patient_toml(data), encoding="utf-8")
        assert patients.load(written) == original, name


def test_blank_rows_are_left_out_and_errors_map_back_to_their_row():
    form = example_form("standard-risk.toml")
    # Row 1 left blank; the real measurement typed in row 3 with a typo (62 kg for 6.2 kg).
    measurement = {k: v for k, v in form.items() if k.startswith("measurements[1]")}
    for key in measurement:
        form[key] = ""
        form[key.replace("[1]", "[3]")] = measurement[key]
    form["measurements[3].weight"] = "62 kg"
    data, where = patient_data(form)
    assert len(data["measurements"]) == 1 and where == {"measurements[1]": "measurements[3]"}


def test_a_field_error_is_shown_beside_its_field(client):
    form = example_form("standard-risk.toml")
    form["measurements[1].weight"] = "62 kg"
    response = post(client, form, "plan")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # The message follows the weight box inside the same table cell, and the box is marked invalid.
    cell = re.search(r'<td class="invalid">\s*<input id="measurements\[1\]\.weight".*?</td>', page, re.S)[0]
    assert 'aria-invalid="true"' in cell
    assert "62.0 kg is outside 0.3-30 kg, which no child under three can measure" in cell


def test_allergies_are_never_assumed(client):
    form = example_form("standard-risk.toml")
    form.pop("patient.no_known_allergies")
    form["patient.allergies"] = ""
    page = post(client, form, "plan").get_data(as_text=True)
    # In the form's words: the box's label, and the tick box to use, never the file's `allergies = []`.
    assert re.search(r'id="error-patient\.allergies"[^>]*>Allergies is missing; the sheet will not guess; tick &#39;No known '
                     r'allergies&#39;, or list them in &#39;Allergies&#39;</p>', page)


def test_the_plan_is_the_command_lines_plan(client, capsys):
    page = post(client, example_form("sr-moves-to-high-risk.toml"), "plan").get_data(as_text=True)
    main(["plan", str(EXAMPLES / "sr-moves-to-high-risk.toml"), "--format", "json"])
    plan = json.loads(capsys.readouterr().out)
    # Day-36 MRD exactly 0.1 % is high risk (docs/reference.md: "0.1 % or more"), so blinatumomab then HSCT.
    assert plan["current_risk"] == "HR" and plan["phases"] == ["induction", "blinatumomab", "HSCT"]
    assert "<strong>SR</strong> at diagnosis, <strong>HR</strong> now" in page
    for step in plan["estimated"]:
        assert f"<td>{step['phase']}</td><td>{step['start']}</td>" in page


def test_issued_pdfs_hold_the_same_orders_as_the_command_line(client, app, tmp_path, capsys):
    form = example_form("standard-risk.toml") | {"sheet.phase": "induction", "sheet.start": "2026-06-01"}
    fingerprint = previewed(client, form)
    page = post(client, form, "issue", previewed=fingerprint).get_data(as_text=True)
    issued = re.search(r'<section class="issued".*?</section>', page, re.S)[0]
    names = re.findall(r'href="/sheets/([^"]+)"', issued)
    assert names == [f"MRN-100001_induction_2026-06-01_{kind}.pdf" for kind in ("orders", "intrathecal", "calendar", "administration-record")]
    assert client.get(f"/sheets/{names[0]}").get_data()[:5] == b"%PDF-"
    # The issue log the web page wrote holds the very orders `dosing sheet --format json` computes.
    main(["sheet", str(EXAMPLES / "standard-risk.toml"), "--phase", "induction", "--start", "2026-06-01", "--format", "json"])
    from_cli = json.loads(capsys.readouterr().out)
    logged = IssueLog(tmp_path / "sheets").latest("MRN-100001", "induction", "2026-06-01").orders
    assert logged == from_cli
    # The same sheet again is refused beside the re-issue box, as the command line refuses it, in the form's words.
    again = post(client, form, "issue", previewed=fingerprint)
    assert again.status_code == 422
    assert re.search(r'id="error-sheet.reissue" role="alert">Already issued: version 1 of this sheet .*; to issue a new version '
                     r'anyway give a reason in &#39;Issue a new version, because&#39;</p>', again.get_data(as_text=True))


def test_preview_writes_nothing_and_shows_every_warning(client, tmp_path):
    form = example_form("standard-risk.toml") | {"sheet.phase": "induction", "sheet.start": "2026-06-01"}
    page = post(client, form, "preview").get_data(as_text=True)
    assert not (tmp_path / "sheets").exists()
    assert page.count('<iframe class="sheet"') == 4 and "sandbox srcdoc=" in page
    # Inside the warnings box: the dexamethasone taper's rounding (0.05533 mg given as 0.05 mg) and the draft banner.
    warnings = re.search(r'<section class="warnings".*?</section>', page, re.S)[0]
    # 0.75 × 0.332 × 2/3 ÷ 3 = 0.05533 mg given as 0.05 mg: 9.6 % less, within the 10 % bound, over the 5 % warning.
    assert "dexamethasone PO days 35, 36: rounding to the product step moves each dose by 9.6% (calculated 0.05533 mg, given 0.05 mg)" in warnings
    assert "DRAFT: the orders use placeholder values" in warnings


def test_an_allergy_stops_the_sheet_and_the_substitution_is_chosen_on_the_page(client, tmp_path):
    form = example_form("standard-risk.toml") | {"sheet.phase": "induction", "sheet.start": "2026-06-01",
                                                 "patient.no_known_allergies": "", "patient.allergies": "Oncaspar (anaphylaxis)"}
    refused = post(client, form, "preview")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "the recorded allergy &#39;Oncaspar (anaphylaxis)&#39; names PEG-asparaginase" in page
    assert '<option value="crisantaspase">' in page
    chosen = post(client, form | {"sheet.substitute": "crisantaspase"}, "preview").get_data(as_text=True)
    warnings = re.search(r'<section class="warnings".*?</section>', chosen, re.S)[0]
    # Rylaze 25 mg/m² × 0.332 m² = 8.3 mg IM on days 5, 7, ..., 17, printed as a substitution.
    assert "SUBSTITUTION chosen by the pharmacist: crisantaspase (recombinant, Rylaze) 25 mg/m² IM on days 5, 7, 9, 11, 13, 15, 17" in warnings
    assert not (tmp_path / "sheets").exists()


def test_everything_shown_is_escaped(client):
    form = example_form("standard-risk.toml") | {"patient.name": '<img src=x onerror="alert(1)">', "sheet.phase": "induction",
                                                 "sheet.start": "2026-06-01"}
    page = post(client, form, "preview").get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page  # in the name box
    # Inside the frame's srcdoc the sheet's own escaping is escaped again: still text, never markup.
    assert "&amp;lt;img src=x" in page


def test_a_post_without_the_pages_token_is_refused(client):
    response = client.post("/", data={**example_form("standard-risk.toml"), "action": "plan"})
    assert response.status_code == 403


def test_only_the_address_it_listens_on_is_answered(client):
    # A page elsewhere that points a name of its own at 127.0.0.1 (DNS rebinding) gets nothing.
    assert client.get("/", headers={"Host": "attacker.example"}).status_code == 421
    assert client.get("/", headers={"Host": "127.0.0.1:8400"}).status_code == 200


def test_an_upload_over_the_size_limit_is_refused(client):
    big = io.BytesIO(b"# " + b"x" * (300 * 1024))
    response = client.post("/", data={"token": token(client), "action": "open", "patient_file": (big, "big.toml")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "larger than 256 kB" in response.get_data(as_text=True)


def test_the_page_loads_nothing_from_anywhere(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy  # no script runs at all
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert not re.search(r'(src|href)="(https?:)?//', response.get_data(as_text=True))


def test_downloads_come_only_from_the_output_folder(client, tmp_path):
    (tmp_path / "secret.pdf").write_bytes(b"%PDF- not yours")
    client.get("/")  # the page's cookie, without which nothing is handed out at all
    for name in ("../secret.pdf", "..%2Fsecret.pdf", ".issue-log.sqlite", "issue-log.sqlite"):
        assert client.get(f"/sheets/{name}").status_code == 404, name


def test_the_downloaded_patient_file_is_the_form(client, tmp_path):
    form = example_form("turns-one-year.toml")
    response = post(client, form, "download")
    assert response.headers["Content-Disposition"] == 'attachment; filename="MRN-100004.toml"'
    saved = tmp_path / "saved.toml"
    saved.write_bytes(response.get_data())
    assert patients.load(saved) == patients.load(EXAMPLES / "turns-one-year.toml")


@pytest.mark.parametrize("name", sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.toml")))
def test_every_example_gets_the_command_lines_doses_through_the_page(name, tmp_path, capsys):
    # Opened as a file would be, issued through the page (the order sheet only, to keep it quick),
    # and compared with `dosing sheet --format json` on the file itself: every dose, every day. Induction from
    # 2026-06-01, or the sheet the example's own comment asks for (the examples with results are for a later phase).
    client = create_app(tmp_path / "sheets").test_client()
    asked = re.search(r"--phase (\S+) --start (\S+)", (EXAMPLES / name).read_text(encoding="utf-8"))
    phase, start = asked.groups() if asked else ("induction", "2026-06-01")
    form = example_form(name) | {"sheet.phase": phase, "sheet.start": start, "sheet.documents.orders": "on"}
    response = issue(client, form)
    assert response.status_code == 200, re.findall(r'role="alert">(.*?)</p>', response.get_data(as_text=True))
    main(["sheet", str(EXAMPLES / name), "--phase", phase, "--start", start, "--format", "json"])
    from_cli = json.loads(capsys.readouterr().out)
    patient_id = from_cli["patient"]["id"]
    assert IssueLog(tmp_path / "sheets").latest(patient_id, phase, start).orders == from_cli


def test_verify_an_issued_sheet_from_the_page(client, tmp_path):
    form = example_form("standard-risk.toml") | {"sheet.phase": "induction", "sheet.start": "2026-06-01", "sheet.documents.orders": "on"}
    issue(client, form)
    name = "MRN-100001_induction_2026-06-01_orders.pdf"
    page = client.get("/").get_data(as_text=True)
    assert f'<button type="submit" name="verify" value="{name}"' in page  # listed under "Issued in this folder"
    page = post(client, form, "plan", verify=name).get_data(as_text=True)
    result = re.search(r'<section class="verification matches".*?</section>', page, re.S)[0]
    assert "regimen data: unchanged since the sheet was issued" in result and "every dose still matches" in result
    # The same file changed after issue is refused, as `dosing verify` refuses it.
    sheet = tmp_path / "sheets" / name
    sheet.write_bytes(sheet.read_bytes() + b"\n% edited")
    refused = post(client, form, "plan", verify=name)
    assert refused.status_code == 422 and "not in the issue log as written" in refused.get_data(as_text=True)
    assert post(client, form, "plan", verify="../issue-log.sqlite").status_code == 422


def test_verify_on_the_page_says_a_sheet_was_replaced(client):
    form = example_form("standard-risk.toml") | {"sheet.phase": "induction", "sheet.start": "2026-06-01", "sheet.documents.orders": "on"}
    issue(client, form)
    issue(client, form | {"sheet.reissue": "first printout damaged on the ward"})
    page = post(client, form, "plan", verify="MRN-100001_induction_2026-06-01_orders.pdf").get_data(as_text=True)
    result = re.search(r'<section class="verification differs".*?</section>', page, re.S)[0]
    assert "REPLACED by version 2: MRN-100001_induction_2026-06-01_orders.pdf</h2>" in result
    assert re.search(r"<li>REPLACED by version 2, issued [0-9T:-]{19}: re-issued: first printout damaged on the ward</li>", result)
    assert "use version 2 and destroy this one" in result
    # Version 2 itself is current.
    page = post(client, form, "plan", verify="MRN-100001_induction_2026-06-01_v2_orders.pdf").get_data(as_text=True)
    assert '<section class="verification matches"' in page and "REPLACED" not in page


def test_a_refused_start_date_and_the_dates_override_box(client, tmp_path):
    # standard-risk.toml, diagnosed 2026-05-28: induction on 2026-06-12 is 15 days after diagnosis (more than 14).
    form = example_form("standard-risk.toml") | {"sheet.phase": "induction", "sheet.start": "2026-06-12", "sheet.documents.orders": "on"}
    refused = post(client, form, "preview")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="error-sheet.start"' in page
    assert "induction day 1 2026-06-12 is 15 days after the diagnosis date 2026-05-28" in page
    assert 'id="sheet.override_dates" name="sheet.override_dates"' in page  # the box to give the reason in
    reason = "day 1 delayed by a line infection, agreed with the consultant"
    page = issue(client, form | {"sheet.override_dates": reason}).get_data(as_text=True)
    notes = re.search(r'<section class="warnings".*?</section>', page, re.S)[0]
    assert f"Ordered anyway for this reason: {reason}" in notes
    assert IssueLog(tmp_path / "sheets").latest("MRN-100001", "induction", "2026-06-12").options["override_dates"] == reason
    # A reason must be words, as on the command line.
    short = post(client, form | {"sheet.override_dates": "ok"}, "preview")
    assert short.status_code == 422 and 'id="error-sheet.override_dates"' in short.get_data(as_text=True)


def test_blinatumomab_bags_after_an_interruption(client, tmp_path, capsys):
    form = example_form("sr-moves-to-high-risk.toml") | {
        "sheet.start": "2026-07-10", "sheet.stopped": "2026-07-12 14:30", "sheet.restart": "2026-07-13 10:00"}
    page = post(client, form, "resume").get_data(as_text=True)
    # First bag 2026-07-10 08:00 (the default); stopped 2026-07-12 14:30 = 54.5 hours given;
    # off until 2026-07-13 10:00 = 19.5 hours: 7 days or less, so continue for 672 - 54.5 = 617.5 hours,
    # and 4 hours or more, so dexamethasone before the restart.
    notes = re.search(r'<section class="warnings".*?</section>', page, re.S)[0]
    assert "Infusion stopped after 54.5 hours and interrupted for 19.5 hours." in notes
    assert "continue to 28 infusion days in total, 617.5 hours from the restart" in notes
    assert "give dexamethasone" in notes
    stem = "MRN-100006_blinatumomab_2026-07-10_resume-2026-07-13T1000"
    assert (tmp_path / "sheets" / f"{stem}_infusion.pdf").exists() and (tmp_path / "sheets" / f"{stem}_preparation.pdf").exists()
    # The same bags as `dosing blinatumomab-resume`.
    main(["blinatumomab-resume", str(EXAMPLES / "sr-moves-to-high-risk.toml"), "--start", "2026-07-10",
          "--stopped", "2026-07-12 14:30", "--restart", "2026-07-13 10:00", "--format", "json"])
    from_cli = json.loads(capsys.readouterr().out)
    assert all(line.replace('"', "&#34;") in notes for line in from_cli["notes"])
    # Times out of order are refused beside the box.
    wrong = post(client, form | {"sheet.restart": "2026-07-11 10:00"}, "resume")
    assert wrong.status_code == 422 and 'id="error-sheet.stopped"' in wrong.get_data(as_text=True)


@pytest.mark.parametrize("box, typed, says", [
    # pint's tokenizer raised TokenError on this, and the page answered 500 and lost the form.
    ("measurements[1].weight", "6.4 (kg", "&#39;(kg&#39; is not a unit of weight the patient file accepts (g, kg, lb, lbs, oz)"),
    ("measurements[1].weight", "6.4 kg # 14.1 lb", "&#39;kg # 14.1 lb&#39; is not a unit of weight"),
    ("measurements[1].weight", "[" * 2000 + "]" * 2000, "does not start with a number"),
    # standard-risk.toml: a boy of 129 days (4 months), 62 cm. 62 lb = 28.12 kg, WHO weight-for-age z +21.
    ("measurements[1].weight", "62 lb", "28.1 kg is not possible for a 4-month-old (WHO z +21)"),
    ("measurements[1].date", "2126-05-29", "at most 1093 days old"),
    ("patient.name", "Petrov,\u200f Mikhail", "U+200F RIGHT-TO-LEFT MARK"),
    ("patient.id", "MRN-\u202e100001", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("patient.birth_date", "2026-05-29", "2026-05-29 is after the diagnosis date 2026-05-28"),
])
def test_malformed_input_is_a_field_error_and_the_form_is_kept(client, box, typed, says):
    form = example_form("standard-risk.toml")
    form[box] = typed
    response = post(client, form, "plan")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    message = re.search(rf'<p class="error" id="error-{re.escape(box)}" role="alert">(.*?)</p>', page, re.S)[1]
    assert says in message and len(message) < 600
    # What was typed stays in its box (escaped), and so does the rest of the form.
    assert f'value="{typed}"' in page.replace("&#34;", '"')
    assert 'value="Petrov, Mikhail"' in page or box == "patient.name"


def test_two_weights_on_one_date_are_refused_beside_the_second(client):
    form = example_form("standard-risk.toml") | {
        "measurements[2].date": "2026-05-29", "measurements[2].weight": "6.8 kg", "measurements[2].length": "62 cm"}
    page = post(client, form, "plan").get_data(as_text=True)
    assert re.search(r'id="error-measurements\[2\]\.date" role="alert">Date in measurement row 2: 2026-05-29 is also the date of '
                     r'measurement row 1, with a different weight or length', page)


def test_an_anthracycline_after_day_1_is_refused_beside_its_row(client):
    # Induction from 2026-06-01; a DAUNOrubicin dose recorded on 2026-06-08 (day 8, this phase's own dose).
    form = example_form("standard-risk.toml") | {
        "anthracyclines[1].date": "2026-06-08", "anthracyclines[1].drug": "daunorubicin", "anthracyclines[1].amount": "6.6 mg",
        "sheet.phase": "induction", "sheet.start": "2026-06-01"}
    response = post(client, form, "preview")
    assert response.status_code == 422
    assert re.search(r'id="error-anthracyclines\[1\]\.date" role="alert">Date in anthracycline dose row 1: 2026-06-08 is on or after '
                     r'day 1 of this phase \(2026-06-01\)', response.get_data(as_text=True))


@pytest.mark.parametrize("nesting", [
    "= " + "[" * 2000 + "]" * 2000,            # tomllib gives up with RecursionError past about 490 levels
    "= " + "{a = " * 2000 + "1" + "}" * 2000,
    "." + ".".join(["a"] * 5000) + " = 1",     # dotted keys: tomllib reads it, but printing it back in the form recursed
])
def test_a_file_nested_too_deep_to_read_is_refused_beside_the_file_box(client, nesting):
    # Each answered HTTP 500 and lost the form.
    text = (EXAMPLES / "standard-risk.toml").read_text(encoding="utf-8").replace('weight = "6.4 kg"', f"weight {nesting}")
    response = client.post("/", data={"token": token(client), "action": "open", "patient.name": "typed, before",
                                      "patient_file": (io.BytesIO(text.encode()), "deep.toml")}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="error-patient_file" role="alert">deep\.toml: Weight in measurement row 1: holds lists or tables nested '
                     r'inside one another, deeper than any patient file', page)
    assert 'value="typed, before"' in page


def test_no_form_reaches_an_internal_error(app):
    # The fuzzer's cases, and text a pint tokenizer or a TOML writer might trip on, in every box of the form: always the
    # page with a field error (422) or the plan (200), never a 500.
    client = app.test_client()
    texts = ["6.4 (kg", "6.4 kg;", "6.4 kg**2/kg", "1 light_year", "6 Da", "\u202e", "\x00", "'''", '"""', "[[x]]",
             "= 1\n[patient]", "1e400 kg", "-0 kg", "nan kg", "6.4\u00a0kg", "2026-02-30", "0000-01-01"]
    base = example_form("standard-risk.toml")
    for box in sorted(base):
        for text in texts:
            response = post(client, base | {box: text}, "plan")
            assert response.status_code in (200, 422), (box, text, response.status_code)


# -- issue 15: results, genotype and other medicines on the form ------------------------------------------------------

RESULTS = """
[[labs]]
date = 2026-05-29
time = "07:30"
test = "anc"
value = "1.2 10^9/L"

[[labs]]
date = 2026-05-30
test = "creatinine"
value = "25 umol/L"

[[labs]]
test = "methotrexate"
value = "0.8 umol/L"
hours_after_start = 42

[genotype]
tpmt = "intermediate"

[[medications]]
name = "co-trimoxazole"

[[medications]]
name = "omeprazole"
"""


@pytest.fixture
def with_results(tmp_path):
    """standard-risk.toml with three results, a TPMT phenotype (NUDT15 unknown) and two other medicines."""
    path = tmp_path / "with-results.toml"
    path.write_text((EXAMPLES / "standard-risk.toml").read_text(encoding="utf-8") + RESULTS, encoding="utf-8")
    return path


def open_file(client, path):
    return client.post("/", data={"token": token(client), "action": "open", "patient_file": (io.BytesIO(path.read_bytes()), path.name)},
                       content_type="multipart/form-data")


def test_results_genotype_and_medicines_open_and_write_back_to_the_same_patient(client, with_results, tmp_path):
    original = patients.load(with_results)
    assert [lab.test for lab in original.labs] == ["anc", "creatinine", "methotrexate"]  # the loader read them all
    page = open_file(client, with_results).get_data(as_text=True)
    # Opening the file fills each row and select; NUDT15, absent from the file, shows as unknown.
    assert 'id="labs[1].time" name="labs[1].time" type="text" aria-label="Time, row 1" value="07:30"' in page
    assert '<option value="anc" selected>neutrophils (ANC)</option>' in page
    assert 'id="labs[3].hours_after_start" name="labs[3].hours_after_start" type="text" aria-label="Hours after start (methotrexate ' \
           'level), row 3" value="42"' in page
    assert '<option value="intermediate" selected>intermediate metaboliser</option>' in page
    nudt15 = re.search(r'<select id="genotype\.nudt15".*?</select>', page, re.S)[0]
    assert "selected" not in nudt15 and '<option value="">unknown</option>' in nudt15
    assert 'id="medications[2].name" name="medications[2].name" type="text" aria-label="Medicine, row 2" value="omeprazole"' in page
    # Downloaded again, the file loads to the same patient (labs, genotype and medicines included).
    saved = tmp_path / "saved.toml"
    saved.write_bytes(post(client, form_values(tomllib.loads(with_results.read_text(encoding="utf-8"))), "download").get_data())
    assert patients.load(saved) == original
    written = tomllib.loads(saved.read_text(encoding="utf-8"))
    assert written["genotype"] == {"tpmt": "intermediate"}  # unknown NUDT15 writes nothing
    assert written["labs"][2] == {"test": "methotrexate", "value": "0.8 umol/L", "hours_after_start": 42}
    assert written["medications"] == [{"name": "co-trimoxazole"}, {"name": "omeprazole"}]


def test_the_genotype_selects_write_only_what_is_known():
    form = example_form("standard-risk.toml")
    assert "genotype" not in patient_data(form)[0]  # both unknown: no [genotype] table at all
    data, _ = patient_data(form | {"genotype.tpmt": "normal", "genotype.nudt15": "poor"})
    assert data["genotype"] == {"tpmt": "normal", "nudt15": "poor"}
    data, _ = patient_data(form | {"genotype.tpmt": "", "genotype.nudt15": "intermediate"})
    assert data["genotype"] == {"nudt15": "intermediate"}


def test_the_page_offers_every_test_and_phenotype_the_loader_reads(client):
    from dosing.results import PHENOTYPES, TESTS

    page = client.get("/").get_data(as_text=True)
    test_list = re.search(r'<select id="labs\[1\]\.test".*?</select>', page, re.S)[0]
    assert re.findall(r'<option value="([^"]*)"', test_list) == ["", *TESTS]
    for gene in ("tpmt", "nudt15"):
        choices = re.search(rf'<select id="genotype\.{gene}".*?</select>', page, re.S)[0]
        assert re.findall(r'<option value="([^"]*)"', choices) == ["", *PHENOTYPES]


def test_result_and_medicine_rows_are_added_and_blank_ones_left_out(client):
    form = example_form("standard-risk.toml")
    page = post(client, form | {"labs[1].test": "anc"}, "add-labs").get_data(as_text=True)
    assert '<option value="anc" selected>' in page and 'id="labs[2].value"' in page  # the row kept, and the one asked for
    page = post(client, form | {"medications[1].name": "fluconazole"}, "add-medications").get_data(as_text=True)
    assert 'value="fluconazole"' in page and 'id="medications[2].name"' in page
    # Row 1 left blank, the result typed in row 4: the file's labs[1] is the form's labs[4].
    data, where = patient_data(form | {"labs[1].test": "", "labs[4].date": "2026-05-29", "labs[4].test": "platelets",
                                       "labs[4].value": "85 10^9/L", "medications[1].name": " ", "medications[3].name": "fluconazole"})
    assert data["labs"] == [{"date": datetime.date(2026, 5, 29), "test": "platelets", "value": "85 10^9/L"}]
    assert where["labs[1]"] == "labs[4]" and where["medications[1]"] == "medications[3]"
    assert data["medications"] == [{"name": "fluconazole"}]


def test_a_result_in_the_wrong_unit_is_refused_beside_its_row(client):
    # Row 1 blank, row 2 fine, row 3 a neutrophil count in mg/dL: the file's labs[2] is the form's labs[3].
    form = example_form("standard-risk.toml") | {
        "labs[2].date": "2026-05-29", "labs[2].test": "platelets", "labs[2].value": "85 10^9/L",
        "labs[3].date": "2026-05-29", "labs[3].test": "anc", "labs[3].value": "1.2 mg/dL"}
    response = post(client, form, "plan")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    cell = re.search(r'<td class="invalid">\s*<input id="labs\[3\]\.value".*?</td>', page, re.S)[0]
    assert 'aria-invalid="true"' in cell and "Value with its unit in result row 3: " in cell and "mg/dL" in cell
    assert 'value="1.2 mg/dL"' in cell  # what was typed is kept to correct
    assert 'id="error-labs[2].value"' not in page
    # A methotrexate level with neither its date nor its hours: the whole row refused, beside the row's value.
    form = example_form("standard-risk.toml") | {"labs[2].test": "methotrexate", "labs[2].value": "0.8 umol/L"}
    page = post(client, form, "plan").get_data(as_text=True)
    assert re.search(r'<td class="invalid">\s*<input id="labs\[2\]\.value".*?id="error-labs\[2\]\.value" role="alert">Result row 2: '
                     r'a methotrexate level needs its date \(and time\), or its hours after the start', page, re.S)


def test_a_count_below_a_start_criterion_is_refused_beside_its_row_and_the_results_override_box(client):
    # ir-block-path.toml, HR1 from 2026-07-06: neutrophils 0.3 × 10^9/L on 2026-07-05 (typed in the form's row 2, the file's
    # labs[1]) are not above 0.5 × 10^9/L (HR1's start criterion, docs/reference.md §12): a hard stop beside that row's value.
    form = example_form("ir-block-path.toml") | {
        "labs[2].date": "2026-07-05", "labs[2].test": "anc", "labs[2].value": "0.3 10^9/L",
        "sheet.phase": "HR1", "sheet.start": "2026-07-06", "sheet.infusion_start": "10:00", "sheet.documents.orders": "on"}
    response = post(client, form, "preview")
    assert response.status_code == 422
    assert re.search(r'<td class="invalid">\s*<input id="labs\[2\]\.value".*?id="error-labs\[2\]\.value" role="alert">Result row 2: '
                     r'High-risk block HR1 cannot start: result row 2 neutrophils 0\.3 × 10⁹/L on 05 Jul 2026 is not above 0\.5 × 10⁹/L',
                     response.get_data(as_text=True), re.S)
    # A reason must be words, as on the command line, and is refused beside its box.
    short = post(client, form | {"sheet.override_results": "ok"}, "preview")
    assert short.status_code == 422
    assert re.search(r'id="error-sheet\.override_results" role="alert">Start despite the results, because: give the clinical reason in words',
                     short.get_data(as_text=True))
    # With the reason the sheet is made, and the warnings say what was overridden and why.
    reason = "neutrophils recovering, agreed with the consultant"
    page = post(client, form | {"sheet.override_results": reason}, "preview").get_data(as_text=True)
    warnings = re.search(r'<section class="warnings".*?</section>', page, re.S)[0]
    assert ("RESULTS OVERRIDE: labs[1] neutrophils 0.3 × 10⁹/L on 05 Jul 2026 is not above 0.5 × 10⁹/L. "
            f"Started anyway for this reason: {reason}") in warnings


@pytest.mark.parametrize("box, typed", [
    ("labs[1].value", "1.2 (10^9/L"), ("labs[1].value", "[" * 2000 + "]" * 2000), ("labs[1].value", "1e400 10^9/L"),
    ("labs[1].value", "-1 10^9/L"), ("labs[1].value", "99999999999999999999 10^9/L"), ("labs[1].value", "1.2\u202e 10^9/L"),
    ("labs[1].hours_after_start", "99999999999999999999"), ("labs[1].hours_after_start", "1e400"),
    ("labs[1].hours_after_start", "-6"), ("labs[1].hours_after_start", "42 h"), ("labs[1].time", "7.30"),
    ("labs[1].time", "25:00"), ("labs[1].date", "2026-02-30"), ("labs[1].test", "neutrophils"),
    ("genotype.tpmt", "slow"), ("medications[1].name", "\u202eco-trimoxazole"),
])
def test_malformed_results_are_field_errors_and_the_form_is_kept(client, box, typed):
    form = example_form("standard-risk.toml") | {"labs[1].date": "2026-05-29", "labs[1].time": "07:30", "labs[1].test": "methotrexate",
                                                 "labs[1].value": "0.8 umol/L", "labs[1].hours_after_start": "42",
                                                 "medications[1].name": "co-trimoxazole", box: typed}
    response = post(client, form, "plan")
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:2000]
    message = re.search(rf'<p class="error" id="error-{re.escape(box)}" role="alert">(.*?)</p>', page, re.S)[1]
    assert len(message) < 600
    assert f'value="{typed}"' in page.replace("&#34;", '"')  # kept in its box, or still chosen in its list


def test_no_result_reaches_an_internal_error(app):
    # As test_no_form_reaches_an_internal_error, in every box of a result row, the genotype and a medicine.
    client = app.test_client()
    texts = ["1.2 (10^9/L", "1.2 10^9/L;", "1.2 10^9/L**2", "1 light_year", "\u202e", "\x00", "'''", '"""', "[[x]]",
             "= 1\n[patient]", "1e400", "1e400 umol/L", "-0", "nan", "inf", "nan umol/L", "1.2\u00a010^9/L", "2026-02-30", "24:00",
             "9" * 400, "0.000000000001 umol/L"]
    base = example_form("standard-risk.toml") | {"labs[1].date": "2026-05-29", "labs[1].test": "anc", "labs[1].value": "1.2 10^9/L",
                                                 "medications[1].name": "co-trimoxazole"}
    boxes = [f"labs[1].{key}" for key in ("date", "time", "test", "value", "hours_after_start")]
    for box in boxes + ["genotype.tpmt", "genotype.nudt15", "medications[1].name"]:
        for text in texts:
            response = post(client, base | {box: text}, "plan")
            assert response.status_code in (200, 422), (box, text, response.status_code)


def test_a_result_after_day_1_is_refused_beside_its_row(client):
    # Induction from 2026-06-01; a neutrophil count dated 2026-06-03 (day 3) was not known when the sheet was decided.
    form = example_form("standard-risk.toml") | {
        "labs[3].date": "2026-06-03", "labs[3].test": "anc", "labs[3].value": "1.2 10^9/L",
        "sheet.phase": "induction", "sheet.start": "2026-06-01"}
    response = post(client, form, "preview")
    assert response.status_code == 422
    assert re.search(r'id="error-labs\[3\]\.date" role="alert">Date in result row 3: result row 3 \(anc, 2026-06-03\) is dated after '
                     r'day 1 2026-06-01', response.get_data(as_text=True))
