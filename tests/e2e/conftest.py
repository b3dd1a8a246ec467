"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded browser) against pytest-django's
live server.

Without Chromium or the playwright package they skip locally; under CI=true they fail, so that a CI machine missing
the browser cannot pass by skipping the suite. Screenshots go to FOREWARN_E2E_SCREENSHOTS (default
var/e2e-screenshots/), kept as artifacts of the run.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django_otp.oath import totp

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("FOREWARN_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("FOREWARN_E2E_SCREENSHOTS", REPO_ROOT / "var" / "e2e-screenshots"))
ACTION_TIMEOUT_MS = 15_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package")
def allow_orm_beside_playwright():
    """The Playwright sync API runs an event loop in the test's thread, while the test's own ORM calls stay
    synchronous: Django must be told they are safe. Only while this package runs, so the variable never reaches
    other tests (`manage.py check --deploy` refuses it)."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(allow_orm_beside_playwright):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -r requirements-dev.txt)")
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS


@pytest.fixture
def new_page(browser, live_server, screenshots):
    """Open a page in a fresh browser context (its own cookies: one person). `page.shot(name)` saves a full-page
    screenshot."""
    contexts = []

    def make(*, width=1280, height=900):
        context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": height})
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.shot = lambda name: page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
        return page

    yield make
    for context in contexts:
        context.close()


def current_totp(device) -> str:
    """The code an authenticator app would show now for this TOTP device."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def link_in(message, path_prefix: str) -> str:
    match = re.search(rf"https?://[^/\s]+({re.escape(path_prefix)}\S+/)", message.body)
    assert match, message.body
    return match.group(1)
