"""The page's form (issue 16): Issue only after a preview of exactly these inputs, the result above the long form,
the blinatumomab section only for a patient on blinatumomab, unchanged inputs said plainly, errors in the form's own
words, and no box that can make it answer 500."""

import html
import io
import re

import pytest

pytest.importorskip("flask", reason="the web extra is not installed: pip install '.[web]'")

from conftest import EXAMPLES  # noqa: E402
from test_web import example_form, issue, post, previewed, token  # noqa: E402

from dosing.errors import InputError  # noqa: E402
from dosing.web import create_app  # noqa: E402
from dosing.web.form import SHEET_BOXES, form_field  # noqa: E402
from dosing.web.messages import in_form_words  # noqa: E402

INDUCTION = {"sheet.phase": "induction", "sheet.start": "2026-06-01", "sheet.documents.orders": "on"}


@pytest.fixture
def client(tmp_path):
    return create_app(tmp_path / "sheets").test_client()


def alerts(page: str) -> dict[str, str]:
    """Each message shown beside a box, by the box's name, as the browser shows it (unescaped)."""
    return {box: html.unescape(text) for box, text in re.findall(r'<p class="error" id="error-([^"]+)" role="alert">(.*?)</p>', page, re.S)}


# -- Issue only after a preview of exactly these inputs -------------------------------------------------------------------

def test_issue_is_offered_only_after_a_preview_and_only_for_the_inputs_previewed(client, tmp_path):
    form = example_form("standard-risk.toml") | INDUCTION
    planned = post(client, form, "plan").get_data(as_text=True)
    assert 'value="preview">Preview sheets</button>' in planned and 'value="issue"' not in planned  # no Issue before a preview
    preview = post(client, form, "preview").get_data(as_text=True)
    assert '<button type="submit" name="action" value="issue">Issue PDFs</button>' in preview
    fingerprint = previewed(client, form)
    # Without the preview's fingerprint, with a made-up one, or with the weight changed after the preview: refused, nothing written.
    for asked, extra in ((form, {}), (form, {"previewed": "0" * 64}), (form | {"measurements[1].weight": "6.5 kg"}, {"previewed": fingerprint})):
        refused = post(client, asked, "issue", **extra)
        assert refused.status_code == 409
        assert "these inputs have not been previewed: the form changed since the preview" in html.unescape(refused.get_data(as_text=True))
        assert not (tmp_path / "sheets").exists()
    # A blank row added (the "Add measurement" button) changes nothing the sheet is made from: the preview still holds.
    done = post(client, form | {"measurements[2].date": "", "measurements[2].weight": " "}, "issue", previewed=fingerprint)
    assert done.status_code == 200
    assert sorted(p.name for p in (tmp_path / "sheets").glob("*.pdf")) == ["MRN-100001_induction_2026-06-01_orders.pdf"]


def test_a_preview_of_unchanged_inputs_says_the_sheet_is_issued_already(client):
    form = example_form("standard-risk.toml") | INDUCTION
    assert issue(client, form).status_code == 200
    page = post(client, form, "preview").get_data(as_text=True)
    # Not "VERSION 2 – replaces version 1 ... What changed: ." for a version that changes nothing, and no Issue button.
    assert "VERSION 2" not in page and "What changed: ." not in page and 'value="issue"' not in page
    assert 'name="previewed"' not in page
    said = html.unescape(re.search(r'<p class="issued-already">(.*?)</p>', page, re.S)[1])
    assert re.fullmatch(r"This sheet is issued already as version 1 \(\d{4}-\d\d-\d\dT[\d:]{8}\), and nothing differs from it\. Issuing "
                        r"it again needs a reason in “Issue a new version, because”; then preview again\.", said)
    assert "Preview (version 1, as issued)" in page
    # With a reason it is version 2, which says what changed, and it may be issued.
    again = post(client, form | {"sheet.reissue": "first printout damaged on the ward"}, "preview").get_data(as_text=True)
    assert "VERSION 2 – replaces version 1" in html.unescape(again)
    assert "What changed: re-issued: first printout damaged on the ward." in html.unescape(html.unescape(again))
    assert '<button type="submit" name="action" value="issue">Issue PDFs</button>' in again


# -- The result above the long form; blinatumomab only where it belongs ----------------------------------------------------

def test_the_plan_the_preview_and_the_warnings_come_before_the_long_form(client):
    page = post(client, example_form("standard-risk.toml") | INDUCTION, "preview").get_data(as_text=True)
    form_starts = page.index('<section aria-labelledby="open-title">')
    for section in ('<section class="warnings"', '<section aria-labelledby="plan-title" class="plan">', '<section class="preview"',
                    '<iframe class="sheet"', 'value="issue">Issue PDFs</button>'):
        assert page.index(section) < form_starts, section
    refused = post(client, example_form("standard-risk.toml") | INDUCTION | {"sheet.start": ""}, "preview").get_data(as_text=True)
    assert refused.index('<section class="problems"') < refused.index('<section aria-labelledby="open-title">')


@pytest.mark.parametrize("example, chosen, shown", [
    ("standard-risk.toml", "induction", False),           # SR: induction, consolidation ... never blinatumomab
    ("sr-moves-to-high-risk.toml", "induction", True),    # day-36 MRD 0.1 %: blinatumomab is on the plan
    ("standard-risk.toml", "blinatumomab", True),         # chosen on the form (with a pathway override, say)
])
def test_the_blinatumomab_section_only_for_a_patient_on_blinatumomab(client, example, chosen, shown):
    page = post(client, example_form(example) | {"sheet.phase": chosen}, "plan").get_data(as_text=True)
    assert ('id="resume-title"' in page) is shown
    assert ('id="sheet.stopped"' in page) is shown


# -- Errors in the form's own words ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("box", sorted(SHEET_BOXES))
def test_every_sheet_option_is_named_by_its_box(box):
    # By its command-line name (the engine's messages) and by the API's (dosing.pharmacy's, on the team's server).
    option, label = SHEET_BOXES[box]
    said = in_form_words(InputError(option, "is needed", f'give {option} "REASON", or {option}'), {})
    assert said == f"{label} is needed; give a reason in '{label}', or '{label}'"
    api = option[2:].replace("-", "_")
    error = InputError(api, "nothing has changed", f'to prepare a new version anyway give a reason in "{api}"')
    assert form_field(error, {}) == box
    assert in_form_words(error, {}) == f"{label}: nothing has changed; to prepare a new version anyway give a reason in '{label}'"


BLINATUMOMAB = {"sheet.phase": "blinatumomab", "sheet.start": "2026-07-10", "sheet.documents.orders": "on"}


@pytest.mark.parametrize("box, example, typed, action, says", [
    ("sheet.phase", {"sheet.phase": "nonsense"}, {}, "preview", "Phase: 'nonsense' is not a phase; choose a phase from the list"),
    ("sheet.phase", {"sheet.phase": "HR1"}, {}, "preview",
     "to order it anyway, give a reason in 'Order this phase anyway, because'"),
    ("sheet.start", {"sheet.start": ""}, {}, "preview", "Day 1 date is needed; fill it in"),
    ("sheet.infusion_start", {"sheet.infusion_start": "25:00"}, {}, "preview",
     "Infusion start on day 1: '25:00' is not a time; write it as HH:MM, e.g. 10:00"),
    ("sheet.bag_hours", BLINATUMOMAB | {"sheet.bag_hours": "50"}, {}, "preview", "Blinatumomab bag hours: there is no 50-hour bag"),
    ("sheet.weeks", {"sheet.weeks": "0"}, {}, "preview", "Weeks to print: '0': give a whole number of weeks from 1 to 104"),
    ("sheet.window_from", {"sheet.window_from": "2026-13-01"}, {}, "preview", "First date printed: '2026-13-01' is not a date"),
    ("sheet.documents", {"sheet.documents.orders": "", "sheet.documents.infusion": "on"}, {}, "preview",
     "Documents: Induction has none of the documents asked for"),
    ("sheet.substitute", {"sheet.substitute": "nonsense"}, {}, "preview", "Substitution: no substitution 'nonsense'"),
    ("sheet.override_pathway", {"sheet.phase": "HR1", "sheet.override_pathway": "ok"}, {}, "preview",
     "Order this phase anyway, because: give the clinical reason in words"),
    ("sheet.override_dates", {"sheet.override_dates": "ok"}, {}, "preview", "Use these dates anyway, because: give the clinical reason"),
    ("sheet.override_results", {"sheet.override_results": "ok"}, {}, "preview", "Start despite the results, because: give the clinical"),
    ("sheet.reissue", {"sheet.reissue": "ok"}, {}, "preview", "Issue a new version, because: give the clinical reason in words"),
    ("sheet.stopped", BLINATUMOMAB | {"sheet.stopped": "2026-07-12"}, {}, "resume",
     "Infusion stopped: '2026-07-12': write the date and time as 'YYYY-MM-DD HH:MM'"),
    ("sheet.restart", BLINATUMOMAB | {"sheet.stopped": "2026-07-12 14:30"}, {}, "resume", "Infusion restarts is needed; fill it in"),
])
def test_a_refused_sheet_option_is_said_in_the_forms_words_beside_its_box(client, box, example, typed, action, says):
    patient = "sr-moves-to-high-risk.toml" if example.get("sheet.phase") == "blinatumomab" else "standard-risk.toml"
    response = post(client, example_form(patient) | INDUCTION | example | typed, action)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    shown = alerts(page)
    assert list(shown) == [box] and says in shown[box], shown
    assert not re.search(r"--[a-z]", shown[box]) and " = " not in shown[box]  # no option, no TOML
    label = SHEET_BOXES[box][1]
    assert shown[box].startswith(label)
    assert re.search(rf'<(label for="{re.escape(box)}"|legend)>{re.escape(label)}', page)  # the same words as the box's own label


def test_patient_file_messages_name_the_boxes_not_the_files_toml(client):
    def said(**typed):
        return list(alerts(post(client, example_form("standard-risk.toml") | typed, "plan").get_data(as_text=True)).items())

    assert said(**{"measurements[1].weight": ""}) == [("measurements[1].weight", "Weight in measurement row 1 is missing; write e.g. 6.2 kg")]
    assert said(**{"disease.cns": "CNS9"}) == [("disease.cns", "CNS status: 'CNS9' is not one of 'CNS1', 'CNS2', 'CNS3'; write e.g. CNS1")]
    assert said(**{"patient.sex": ""}) == [("patient.sex", "Sex is missing; fill it in")]  # not "see examples/ for the format"
    # A row's message names the form's row (blank rows left out of the file: the file's labs[1] is the form's row 2).
    assert said(**{"labs[2].test": "anc", "labs[2].date": "2026-05-29"}) == [
        ("labs[2].value", "Value with its unit in result row 2 is missing; fill it in")]


# -- Never a 500, whatever is typed or opened ------------------------------------------------------------------------------

ODD = ["[", "6[2 kg", "]", "{", "}", "{a = 1}", "[[x]]", '"', "'", "\\", "\x00", "x" * 10240, "\u202e", "日本語 kg", "😀", "-- reissue",
       "= 1\n[patient]"]


def test_odd_text_in_every_box_is_never_an_internal_error(tmp_path):
    client = create_app(tmp_path / "sheets").test_client()
    base = example_form("standard-risk.toml") | INDUCTION
    boxes = sorted(set(base) | {f"sheet.{key}" for key in ("weeks", "window_from", "infusion_start", "bag_hours", "substitute",
                                                           "override_pathway", "override_dates", "override_results", "reissue")})
    for box in boxes:
        for text in ODD:
            # The patient's boxes decide before any sheet is made, so "plan" tries them; the sheet's boxes need "preview".
            action = "preview" if box.startswith("sheet.") else "plan"
            response = post(client, base | {box: text}, action)
            assert response.status_code in (200, 422), (box, text[:20], response.status_code)
            page = response.get_data(as_text=True)
            if response.status_code == 422:
                assert 'value="Petrov, Mikhail"' in page or box == "patient.name", (box, text[:20])  # the form kept
                assert not any(re.search(r"--[a-z]", said) for said in alerts(page).values()), (box, text[:20])  # no option named
    assert not (tmp_path / "sheets").exists()


@pytest.mark.parametrize("typed", ["6[2 kg", "[", "6.2 kg]"])
def test_a_bracket_in_a_weight_is_refused_beside_the_weight_and_the_form_kept(client, typed):
    response = post(client, example_form("standard-risk.toml") | {"measurements[1].weight": typed}, "plan")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert alerts(page)["measurements[1].weight"].startswith("Weight in measurement row 1: ")
    assert f'value="{html.escape(typed)}"' in page and 'value="Petrov, Mikhail"' in page


@pytest.mark.parametrize("nesting", ["[" * 10000 + "]" * 10000, "{a = " * 10000 + "1" + "}" * 10000])
def test_a_file_nested_ten_thousand_deep_is_refused_beside_the_file_box(client, nesting):
    text = (EXAMPLES / "standard-risk.toml").read_text(encoding="utf-8").replace('weight = "6.4 kg"', f"weight = {nesting}")
    response = client.post("/", data={"token": token(client), "action": "open", "patient.name": "typed, before",
                                      "patient_file": (io.BytesIO(text.encode()), "deep.toml")}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert alerts(page)["patient_file"].startswith("deep.toml: Weight in measurement row 1: holds lists or tables nested inside one another")
    assert 'value="typed, before"' in page
