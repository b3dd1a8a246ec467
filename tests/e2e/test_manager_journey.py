"""A program manager in Berlin authors an advisory (descriptions, files), plans its release (every mistake of the
plan shown at once), and watches the waves release to the partners, the calendar marking them."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisories import services
from advisories.models import Advisory, AdvisoryStatus, Delivery, WaveStatus
from core.levels import AccessLevel
from tests.e2e.conftest import log_in
from tests.factories import AgreementFactory, PartnerFactory, ProgramManagerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def _typed(moment: datetime) -> str:
    """A time as the manager types it: UTC, YYYY-MM-DD HH:MM."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def test_a_manager_authors_plans_and_watches_an_advisory_release(new_page, nda, poc_addendum):
    manager = ProgramManagerFactory(email="mara@forewarn.test")
    device = TOTPDevice.objects.create(user=manager, name="Phone", confirmed=True)
    early_partner = PartnerFactory(legal_name="Northwind Antivirus Inc.", assigned_level=AccessLevel.EARLY)
    standard_partner = PartnerFactory(legal_name="Kestrel Intrusion Detection", assigned_level=AccessLevel.STANDARD)
    for partner in (early_partner, standard_partner):
        AgreementFactory(partner=partner, contract_version=nda)
    AgreementFactory(partner=early_partner, contract_version=poc_addendum)
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)

    page = new_page(timezone_id="Europe/Berlin")
    log_in(page, email=manager.email, password=PASSWORD, device=device)

    # 1. A new advisory: times typed in UTC, the Berlin time shown beside them once, in the same form.
    page.goto("/program/advisories/new/")
    public_input = page.locator("#id_public_release_at")
    assert public_input.get_attribute("placeholder") == "YYYY-MM-DD HH:MM"
    page.fill("#id_title", "Heap overflow in Example VPN gateway")
    page.fill("#id_cve_ids", "CVE-2026-40001")
    page.fill("#id_affected_products", "Example VPN 4.0 to 4.2\nExample VPN appliance firmware 7")
    page.fill("#id_cvss_vector", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    page.fill("#id_public_release_at", "2026-12-02 13:07")
    assert page.locator(".local-time").inner_text().strip() == "(your time: 2026-12-02 14:07 CET)"
    page.fill("#id_public_release_at", "not a time")
    page.click("main button[type=submit]")
    page.get_by_text("1 problem to fix").wait_for()
    assert page.locator(".local-time").count() == 1  # annotated once, even after a validation error
    assert page.locator("#id_title").input_value() == "Heap overflow in Example VPN gateway"  # values kept
    page.fill("#id_public_release_at", _typed(start - timedelta(days=1)))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/program/advisories/FWN-\d{4}-\d{4}/$"))
    advisory = Advisory.objects.get(title="Heap overflow in Example VPN gateway")
    page.get_by_text("is in the past").first.wait_for()  # a draft released in the past gets a word
    page.review("journey-manager-advisory-draft")

    # 2. Descriptions with live preview, and files.
    for level, title, body in (
        ("generic", "Summary", "A flaw in Example VPN lets a remote attacker run code."),
        ("standard", "Technical details", "## Details\n\nThe `/cgi-bin/login` handler copies `user` unchecked."),
    ):
        page.goto(f"/program/advisories/{advisory.identifier}/documents/{level}/")
        page.fill("#id_title", title)
        page.fill("#id_body_markdown", body)
        if level == "standard":
            page.locator("#markdown-preview h2", has_text="Details").wait_for()  # rendered by the server
            page.review("journey-manager-document-editor")
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(rf"/program/advisories/{advisory.identifier}/$"))
    for level, name, content in (
        (AccessLevel.STANDARD, "Detection rule", b'alert http any any -> any any (msg:"FWN VPN"; sid:9100002;)\n'),
        (AccessLevel.EARLY, "Proof of concept", b"#!/usr/bin/env python3\nprint('overflow')\n"),
    ):
        page.goto(f"/program/advisories/{advisory.identifier}/artifacts/new/")
        page.fill("#id_name", name)
        page.select_option("#id_level", str(level.value))
        page.set_input_files("#id_file", {"name": f"{name}.txt", "mimeType": "text/plain", "buffer": content})
        page.click("main form button[type=submit]")
        page.get_by_text(f"{name} stored").wait_for()
    with page.expect_download() as download:
        page.get_by_role("link", name="Proof of concept").click()  # the manager's own copy of the file
    assert download.value.suggested_filename

    # 3. The plan: every mistake at once, then a plan that works.
    page.goto(f"/program/advisories/{advisory.identifier}/plan/")
    page.fill("#id_early_at", _typed(start - timedelta(hours=1)))
    page.fill("#id_standard_at", _typed(start + timedelta(minutes=30)))
    page.fill("#id_public_release_at", _typed(start + timedelta(minutes=20)))
    page.click("main form button[type=submit]")
    page.get_by_text("2 problems to fix").wait_for()
    assert page.get_by_text("This time is in the past.").first.is_visible()
    assert page.get_by_text("The standard wave must come no later than the public release.").first.is_visible()
    page.review("journey-manager-plan-errors")
    times = {"early": start + timedelta(minutes=5), "standard": start + timedelta(minutes=10)}
    times["generic"] = start + timedelta(minutes=15)
    page.fill("#id_early_at", _typed(times["early"]))
    page.fill("#id_standard_at", _typed(times["standard"]))
    page.fill("#id_public_release_at", _typed(times["generic"]))
    page.click("main form button[type=submit]")
    page.get_by_text("is scheduled").wait_for()
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.SCHEDULED

    # Cancelling the plan asks first; going back changes nothing.
    page.get_by_role("button", name="Cancel the plan…").click()
    page.get_by_role("heading", name=f"Cancel the release plan of {advisory.identifier}?").wait_for()
    page.review("journey-manager-confirm-cancel")
    page.get_by_role("link", name="No, go back").click()
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.SCHEDULED

    # 4. The waves release as beat would release them; the manager watches the page.
    for level, expected in (("early", [early_partner]), ("standard", [standard_partner]), ("generic", [])):
        with time_machine.travel(times[level] + timedelta(seconds=5), tick=True):
            services.release_due_waves()
            page.goto(f"/program/advisories/{advisory.identifier}/")
            row = page.locator("tr", has_text=level).first
            assert "Released" in row.inner_text(), row.inner_text()
            wave = advisory.waves.get(level=AccessLevel[level.upper()])
            assert wave.status == WaveStatus.RELEASED
            delivered = set(Delivery.objects.filter(wave=wave).values_list("partner__legal_name", flat=True))
            assert {partner.legal_name for partner in expected} <= delivered
    page.review("journey-manager-advisory-released")
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.PUBLIC
    page.goto(f"/program/advisories/{advisory.identifier}/waves/early/")
    page.get_by_text("Northwind Antivirus Inc.").first.wait_for()
    page.goto(f"/program/advisories/calendar/?month={times['early']:%Y-%m}")
    assert page.locator("a.wave.released", has_text=advisory.identifier).count() == 3
    page.review("journey-manager-calendar")
    assert page.problems == [], "\n".join(page.problems)
