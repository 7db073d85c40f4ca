"""The form page's hooks for the pharmacy team's server (dosing.web.app with a database; dosing.web.team does the rest,
tested in test_team_pages.py): what the form offers each role, Prepare only after a preview, and never a 500 for a body
over the limit, on any route. SQLite and PostgreSQL."""

import re

import pytest

pytest.importorskip("flask", reason="the web extra is not installed: pip install '.[web]'")

from test_team_pages import logged_in, team  # noqa: E402,F401 - the team server's fixture, and a login as each user
from test_web import example_form  # noqa: E402

FORM = example_form("standard-risk.toml") | {"sheet.phase": "induction", "sheet.start": "2026-06-01", "sheet.documents.orders": "on"}


def test_the_form_offers_a_pharmacist_prepare_after_a_preview_and_never_issue(team):  # noqa: F811
    anna = logged_in(team, "anna")
    page = anna.get("/").text
    assert 'href="/orders">Orders</a>' in page and "Logged in as <strong>anna</strong> (pharmacist)" in page
    assert 'action="/logout"' in page and "Issued in this folder" not in page
    preview = anna.post("/", data=FORM | {"token": anna.token, "action": "preview"}).text
    assert '<button type="submit" name="action" value="prepare">Prepare for verification</button>' in preview
    assert 'value="issue"' not in preview and 'value="resume"' not in preview
    fingerprint = re.search(r'name="previewed" value="([0-9a-f]{64})"', preview)[1]
    # Issue, resume and verify belong to the single-user page: refused here, as is Prepare without a preview of these inputs.
    for action in ("issue", "resume"):
        assert anna.post("/", data=FORM | {"token": anna.token, "action": action, "previewed": fingerprint}).status_code == 403
    assert anna.post("/", data=FORM | {"token": anna.token, "action": "plan", "verify": "x.pdf"}).status_code == 403
    assert anna.post("/", data=FORM | {"token": anna.token, "action": "prepare"}).status_code == 409
    changed = FORM | {"measurements[1].weight": "6.5 kg", "token": anna.token, "action": "prepare", "previewed": fingerprint}
    assert anna.post("/", data=changed).status_code == 409
    prepared = anna.post("/", data=FORM | {"token": anna.token, "action": "prepare", "previewed": fingerprint})
    assert prepared.status_code == 303 and re.fullmatch(r"/orders/[0-9a-f]{32}", prepared.headers["Location"])
    # The same inputs again: said beside the re-issue box in the form's words.
    again = anna.post("/", data=FORM | {"token": anna.token, "action": "preview"})
    assert again.status_code == 422
    assert re.search(r'id="error-sheet.reissue" role="alert">Issue a new version, because: nothing has changed since version 1', again.text)


@pytest.mark.parametrize("name", ["nina", "root"])
def test_a_nurse_or_an_admin_is_sent_to_the_orders(team, name):  # noqa: F811
    assert logged_in(team, name).get("/").headers["Location"] == "/orders"


def test_the_single_user_pages_sheets_are_not_served_on_the_team_server(team):  # noqa: F811
    assert team.test_client().get("/sheets/MRN-100001_induction_2026-06-01_orders.pdf").status_code == 303  # no session: log in
    assert logged_in(team, "anna").get("/sheets/MRN-100001_induction_2026-06-01_orders.pdf").status_code == 404


def test_a_body_over_the_limit_is_413_on_every_route_never_500(team):  # noqa: F811
    big = "x" * (300 * 1024)
    anonymous = team.test_client()
    assert anonymous.post("/login", data={"name": big, "password": "y"}).status_code == 413
    api = anonymous.post("/api/login", data=big, headers={"Content-Type": "application/json"})
    assert api.status_code == 413 and "larger than 256 kB" in api.get_json()["error"]
    anna = logged_in(team, "anna")
    page = anna.post("/", data={"token": anna.token, "patient.name": big})
    assert page.status_code == 413 and 'id="error-patient_file" role="alert">The upload is larger than 256 kB' in page.text
