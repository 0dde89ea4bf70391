"""Headless Chromium from Debian's packages, driven by Playwright for Python, for tests of Airflow's UI.

Playwright's own browser download is never used (this machine has no internet beyond package registries):
it launches the system Chromium (``/usr/bin/chromium``, or ``$LMS_CHROMIUM``). ``python3 dev.py test``
installs it with apt when it is missing. Screenshots go under ``artifacts/screenshots/`` in the project (or
``$LMS_ARTIFACTS_DIR/screenshots/``), one folder per test module.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.airflow.live import LiveAirflow

ROOT = Path(__file__).resolve().parents[2]
# The flags a closed network needs: without the background-networking ones Chromium keeps dialling Google.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def artifacts_dir(name: str) -> Path:
    """The screenshot folder for ``name`` (created)."""
    base = Path(os.environ.get("LMS_ARTIFACTS_DIR") or ROOT / "artifacts")
    folder = base / "screenshots" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def chromium_path() -> str:
    """The system Chromium; a clear failure (not a skip) when it is missing, unless browser tests are off."""
    path = os.environ.get("LMS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if Path(path).exists():
        return path
    if os.environ.get("LMS_SKIP_BROWSER_TESTS") == "1":
        pytest.skip("LMS_SKIP_BROWSER_TESTS=1 and no Chromium")
    pytest.fail(
        f"no Chromium at {path}: `python3 dev.py test` installs Debian's chromium package "
        "(apt-get install chromium); or set LMS_CHROMIUM, or LMS_SKIP_BROWSER_TESTS=1 to skip browser tests"
    )


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A headless system Chromium under Playwright."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_airflow(browser: Browser, live: LiveAirflow) -> Page:
    """A page on the Airflow UI, logged in: through the login form when the instance has users."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)  # a busy 2-core machine
    if live.credentials is None:
        page.goto(f"{live.url}/auth/token/login?next={live.url}/")
    else:
        user, password = live.credentials
        page.goto(f"{live.url}/")
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/")
    return page


def screenshot_pages(live: LiveAirflow, pages: dict[str, str], folder: Path) -> list[Path]:
    """Open each UI path and save a full-page screenshot named after its key."""
    saved = []
    with chromium() as browser:
        page = open_airflow(browser, live)
        for name, path in pages.items():
            page.goto(f"{live.url}{path}")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1500)  # the grid fills in after the first paint
            target = folder / f"{name}.png"
            page.screenshot(path=str(target), full_page=True)
            saved.append(target)
    return saved
