"""The description editor's variant points in a real browser: the author writes a point, sees it marked in the
preview with each alternative, accepts a proposed point, and saves; no inline script runs (CSP)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisories import services
from advisories.models import AdvisoryDocument
from core.levels import AccessLevel
from tests.e2e.conftest import current_totp
from tests.factories import ProgramManagerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(page, *, email, device):
    page.goto("/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", "correct horse battery staple")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/mfa/verify/"))
    page.fill("#id_token", current_totp(device))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/mfa/).*$"))


def test_an_author_writes_a_variant_point_previews_each_alternative_and_accepts_a_proposal(new_page):
    manager = ProgramManagerFactory(email="author@example.test")
    device = TOTPDevice.objects.create(user=manager, name="Phone", confirmed=True)
    advisory = services.create_advisory(
        actor=manager, title="Heap overflow in Example Mail", public_release_at=timezone.now() + timedelta(days=7)
    )
    page = new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _log_in(page, email=manager.email, device=device)

    page.goto(reverse("program_advisories:document", args=[advisory.identifier, "standard"]))
    page.fill("#id_title", "Technical details")
    page.fill("#id_body_markdown", "The flaw {{= lies | resides =}} in the parser, which reliably crashes.")
    point = page.locator("#markdown-preview .variant-point")
    point.wait_for()

    assert page.locator("[data-variant-count]").inner_text() == "1"
    assert point.locator(".variant-alternative:visible").inner_text() == "lies"
    page.locator("details.variant-points summary").click()
    page.select_option("[data-variant-preview-choice]", "1")
    assert point.locator(".variant-alternative:visible").inner_text() == "resides"

    page.click("[data-variant-propose]")
    proposal = page.locator("[data-variant-proposals] li", has_text="reliably")
    proposal.locator("[data-variant-accept]").click()
    page.wait_for_function("document.querySelector('[data-variant-count]').textContent === '2'")
    assert "{{= reliably | consistently | dependably =}}" in page.input_value("#id_body_markdown")
    page.locator("#markdown-preview .variant-point").nth(1).wait_for()
    page.shot("variant-point-editor")

    page.click("form.card button[type=submit]")
    page.wait_for_load_state()
    saved = AdvisoryDocument.objects.get(advisory=advisory, level=AccessLevel.STANDARD)
    assert saved.body_markdown.startswith("The flaw {{= lies | resides =}} in the parser")
    assert not [error for error in errors if "Content Security Policy" in error or "Refused" in error]


def test_a_byte_range_lists_its_alternatives_and_the_preview_shows_each_one(new_page):
    manager = ProgramManagerFactory(email="filler@example.test")
    device = TOTPDevice.objects.create(user=manager, name="Phone", confirmed=True)
    advisory = services.create_advisory(
        actor=manager, title="Heap overflow in Example Mail", public_release_at=timezone.now() + timedelta(days=7)
    )
    page = new_page()
    _log_in(page, email=manager.email, device=device)

    page.goto(reverse("program_advisories:document", args=[advisory.identifier, "standard"]))
    page.fill("#id_body_markdown", "The filler byte is {{=filler: A..Z =}} and the marker {{= 0x00..0xff =}}.")
    point = page.locator("#markdown-preview .variant-point").first
    point.wait_for()
    page.locator("details.variant-points summary").click()

    assert page.locator("[data-variant-list] li").first.inner_text() == "filler: A..Z (range: 26 alternatives)"
    assert page.locator("[data-variant-preview-choice] option").count() == 256
    page.select_option("[data-variant-preview-choice]", label="3")
    assert point.locator(".variant-alternative:visible").inner_text() == "C"
    page.select_option("[data-variant-preview-choice]", label="201")
    assert point.locator(".variant-alternative:visible").inner_text() == "Z"
    marker = page.locator("#markdown-preview .variant-point").nth(1)
    assert marker.locator(".variant-alternative:visible").inner_text() == "0xc8"
