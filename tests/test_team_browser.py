"""The pharmacy team's server end to end in a real, headless Chromium: a pharmacist prepares, a second verifies and issues, a nurse records a dose.

A real waitress server in a thread, on SQLite and on PostgreSQL (the throw-away
cluster of tests/postgres.py), three users each in their own browser context
(their own cookies, as on three ward computers). Chromium as tests/test_browser.py
launches it: Debian's, never downloaded; DOSING_REQUIRE_BROWSER=1 (CI) makes a
missing browser a failure instead of a skip. Each role's page is saved to
/tmp/team-*.png to be looked at.
"""

import re
from contextlib import contextmanager

import pytest

pytest.importorskip("flask", reason="the web extra is not installed: pip install '.[web]'")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install '.[test]'")
pytest.importorskip("waitress", reason="the web extra is not installed: pip install '.[web]'")

from dosing.store import accounts, open_database, orders  # noqa: E402

from conftest import EXAMPLES  # noqa: E402
from tests import serving  # noqa: E402
from tests.chromium import browser, require  # noqa: E402,F401 (browser: the fixture)

PASSWORD = "correct horse battery"

require()


@contextmanager
def served(app):
    """The app behind a real waitress server on a free loopback port, in a thread; yields its base URL."""
    from waitress import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    stop = serving.start(server)
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop()


@pytest.fixture
def database_url(postgres_cluster):
    """PostgreSQL only, as a hospital runs it (the same pages run on SQLite in test_team_pages.py): a browser run costs ~20 s."""
    import uuid

    from tests.postgres import new_database

    return new_database(postgres_cluster, f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def server(database_url, tmp_path):
    """The team's server on a fresh database with two pharmacists (anna, boris) and a nurse (nina)."""
    from dosing import web

    db = open_database(database_url)
    for name, role in (("anna", "pharmacist"), ("boris", "pharmacist"), ("nina", "nurse")):
        accounts.add_user(db, name, role, PASSWORD)
    with served(web.create_app(tmp_path / "sheets", database=db)) as url:
        yield url, db
    db.dispose()


@contextmanager
def person(browser, url: str, name: str):
    """One person's own browser (cookies of their own), logged in through the login page it is sent to."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        page.goto(f"{url}/orders")
        assert page.url == f"{url}/login?next=/orders", "no session: the login page, and back to /orders after"
        page.get_by_label("User name").fill(name)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{url}/orders")
        assert f"Logged in as {name}" in page.locator("header").inner_text()
        yield page
        assert errors == [], f"{name}'s browser reported: {errors}"
    finally:
        context.close()


def test_a_pharmacist_prepares_a_second_verifies_and_issues_a_nurse_records_a_dose(browser, server, database_url):
    url, db = server
    kind = database_url.split(":")[0].split("+")[0]

    # Pharmacist A opens the patient file on the form, previews, prepares; may not verify her own order.
    with person(browser, url, "anna") as anna:
        anna.get_by_role("link", name="Prepare an order").click()
        anna.set_input_files("#patient_file", str(EXAMPLES / "standard-risk.toml"))
        anna.get_by_role("button", name="Open").click()
        assert anna.locator('[id="patient.name"]').input_value() == "Petrov, Mikhail"
        anna.locator('[id="sheet.phase"]').select_option("induction")
        anna.locator('[id="sheet.start"]').fill("2026-06-01")
        anna.get_by_role("button", name="Preview sheets").click()
        # Petrov, 6.4 kg, 62 cm: BSA = sqrt(62 x 6.4 / 3600) = 0.3320 m2; 4 months: 2/3 of the dose.
        # dexamethasone 6 mg/m2/day x 0.3320 x 2/3 = 1.328 mg/day -> 0.45 mg three times a day (steps of 0.05 mg)
        orders_frame = anna.frame_locator('iframe[title="Chemotherapy orders"]').first.locator("body")
        assert "0.45 mg" in orders_frame.inner_text()
        anna.get_by_role("button", name="Prepare for verification").click()
        anna.wait_for_url(re.compile(rf"{url}/orders/[0-9a-f]{{32}}$"))
        order_id = anna.url.rsplit("/", 1)[1]
        assert orders.get_order(db, order_id).state == "prepared"
        step = anna.locator("#verify")
        assert "You prepared this order, so you cannot verify it." in step.inner_text()
        assert anna.get_by_role("button", name="Verify").count() == 0
        anna.screenshot(path=f"/tmp/team-pharmacist-a-{kind}.png", full_page=False)

    # Pharmacist B finds it waiting for him, reads the working, verifies and issues it.
    with person(browser, url, "boris") as boris:
        waiting = boris.locator("section.list-verify")
        assert "MRN-100001" in waiting.inner_text() and "anna" in waiting.inner_text()
        waiting.get_by_role("link", name="MRN-100001").click()
        assert "0.45 mg" in boris.frame_locator('iframe[title="Chemotherapy orders"]').first.locator("body").inner_text()
        boris.get_by_role("button", name="Verify").click()
        boris.wait_for_url(f"{url}/orders/{order_id}?done=verified")
        boris.get_by_role("button", name="Issue").click()
        boris.wait_for_url(f"{url}/orders/{order_id}?done=issued")
        documents = boris.locator("section.issued a").all_inner_texts()
        assert documents == [f"MRN-100001_induction_2026-06-01_{k}.pdf" for k in ("orders", "intrathecal", "calendar", "administration-record")]
        boris.screenshot(path=f"/tmp/team-pharmacist-b-{kind}.png", full_page=False)

    # The nurse opens the issued order and records day 1's dexamethasone as given, checked by a second nurse.
    with person(browser, url, "nina") as nina:
        nina.locator("section.list-issued").get_by_role("link", name="MRN-100001").click()
        with nina.expect_download() as download:
            nina.get_by_role("link", name=documents[0]).click()
        assert download.value.suggested_filename == documents[0]
        row = nina.locator("#item-1")
        assert row.locator("td").nth(2).inner_text() == "dexamethasone"
        given_at = row.locator("#given_at-1").input_value()
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", given_at), "the time given is filled in with now"
        row.locator("#given_at-1").fill("2026-06-01 08:05")
        row.locator("#given_by-1").fill("NK")
        row.locator("#checked_by-1").fill("LP")
        row.locator("#batch-1").fill("DX-2291")
        row.get_by_role("button", name="Given", exact=True).click()
        nina.wait_for_url(f"{url}/orders/{order_id}?done=recorded#item-1")
        cells = nina.locator("#item-1 td").all_inner_texts()
        assert cells[:8] == ["1", "2026-06-01", "dexamethasone", "1.35 mg (3 × 0.45 mg)", "PO", "2026-06-01 08:05", "NK / LP", "DX-2291"]
        rows = [r.locator("td").all_inner_texts() for r in nina.locator("section.totals tbody tr").all()]
        totals = next(cells for cells in rows if cells[:2] == ["dexamethasone", "PO"])
        planned = [a for a in orders.get_order(db, order_id).orders["administrations"] if (a["drug"], a["route"]) == ("dexamethasone", "PO")]
        # given so far: the one dose of 1.35 mg; the other days still open
        assert totals[3:] == ["1.35 mg", "1", "0", str(len(planned) - 1)]
        nina.goto(f"{url}/orders/{order_id}#record")  # the record from its title, for the picture
        nina.screenshot(path=f"/tmp/team-nurse-{kind}.png", full_page=False)
    record = orders.get_order(db, order_id).administrations
    assert [(r["item"], r["given_by"], r["checked_by"], r["batch"], r["recorded_by"]) for r in record] == [(1, "NK", "LP", "DX-2291", "nina")]
