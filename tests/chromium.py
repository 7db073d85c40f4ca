"""Debian's Chromium for the browser tests, found and launched one way (tests/test_browser.py, tests/test_team_browser.py).

Used as it is (`executable_path`), so Playwright downloads nothing; `.ci/run`
installs it and sets DOSING_REQUIRE_BROWSER=1, so in CI a missing browser
fails these tests instead of skipping them.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("DOSING_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# As root and on a machine with no network: no sandbox, and no background calls home.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def require() -> None:
    """Skip the calling test module where Chromium is not installed; fail instead where DOSING_REQUIRE_BROWSER is set (CI)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("DOSING_REQUIRE_BROWSER"):
            raise RuntimeError(f"Chromium not found at {CHROMIUM}; install Debian's chromium package (see .ci/run)")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt install chromium, or set DOSING_CHROMIUM)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    """One Chromium for a test module (each launch costs seconds); each test opens its own contexts."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()
