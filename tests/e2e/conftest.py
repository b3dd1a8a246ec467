"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded browser) against pytest-django's
live server.

`page.review(name)` is the common look at a page: a screenshot at 1280 px, the axe-core accessibility scan (no
serious or critical violation), and at 390 px a second screenshot and the check that nothing is wider than the
screen. Problems are collected and asserted together at the end of the test (`page.problems`), so that one run
names every page that needs work.

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
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
BLOCKING_IMPACTS = ("serious", "critical")


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


@pytest.fixture(scope="package")
def axe_script():
    """axe-core as shipped inside the axe-playwright-python package (pinned in requirements-dev.txt; no CDN)."""
    try:
        from axe_playwright_python.base import AXE_SCRIPT
    except ImportError:
        _unavailable("axe-playwright-python is not installed (pip install -r requirements-dev.txt)")
    return AXE_SCRIPT


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")


def blocking_accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (axe is loaded into every page of the
    context by an init script, which the page's content security policy does not govern)."""
    violations = page.evaluate("() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(", ".join(map(str, node["target"])) for node in violation["nodes"][:5])
        for violation in violations
        if violation["impact"] in BLOCKING_IMPACTS
    ]


@pytest.fixture
def new_page(browser, live_server, screenshots, axe_script):
    """Open a page in a fresh browser context (its own cookies: one person). `page.shot(name)` saves a full-page
    screenshot; `page.review(name)` also scans it with axe-core and looks at it 390 px wide (see above)."""
    contexts, pages = [], []

    def make(*, width=DESKTOP["width"], height=DESKTOP["height"], timezone_id="UTC"):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}, timezone_id=timezone_id
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.add_init_script(axe_script)
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.shot = lambda name: page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)

        def review(name):
            page.set_viewport_size(DESKTOP)
            page.shot(f"{name}-1280")
            for violation in blocking_accessibility_violations(page):
                page.problems.append(f"{name} ({page.url}): {violation}")
            page.set_viewport_size(PHONE)
            page.shot(f"{name}-390")
            overflow = horizontal_overflow(page)
            if overflow > 0:
                page.problems.append(f"{name} ({page.url}): {overflow} px wider than a 390 px screen")
            page.set_viewport_size(DESKTOP)

        page.review = review
        pages.append(page)
        return page

    yield make
    for context in contexts:
        context.close()


def log_in(page, *, email, password, device):
    """Password, then the second factor (the code an authenticator app would show for the stored device)."""
    page.goto("/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/mfa/verify/"))
    page.fill("#id_token", current_totp(device))
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/mfa/" not in url and "/login/" not in url)


def current_totp(device) -> str:
    """The code an authenticator app would show now for this TOTP device."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def link_in(message, path_prefix: str) -> str:
    match = re.search(rf"https?://[^/\s]+({re.escape(path_prefix)}\S+/)", message.body)
    assert match, message.body
    return match.group(1)
