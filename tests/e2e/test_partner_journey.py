"""The whole partner journey in a real browser: apply -> a manager approves -> invitation -> password and MFA
enrolment -> sign the agreement -> a wave releases -> acknowledge handling and download; a manager suspends the
organisation -> the partner's next click is refused. Screenshots of every main page along the way."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisories import services
from advisories.models import DownloadEvent, HandlingAcknowledgement
from core.levels import AccessLevel
from partners.models import Partner, PartnerStatus
from tests.e2e.conftest import current_totp, link_in
from tests.factories import (
    AdvisoryFactory,
    AgreementFactory,
    ArtifactFactory,
    DocumentFactory,
    PartnerFactory,
    ProgramManagerFactory,
    WaveFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MANAGER_PASSWORD = "correct horse battery staple"
PARTNER_PASSWORD = "kestrel-harbour-2026!"


def _log_in(page, *, email, password, device):
    page.goto("/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/mfa/verify/"))
    page.fill("#id_token", current_totp(device))
    page.click("main button[type=submit]")


def _demo_program(nda):
    """Other organisations holding the NDA, and an advisory scheduled, so that the staff pages show real figures."""
    for number, (country, level) in enumerate([("US", AccessLevel.STANDARD), ("DE", AccessLevel.GENERIC)]):
        partner = PartnerFactory(legal_name=f"Demo Partner {number}", country=country, assigned_level=level)
        AgreementFactory(partner=partner, contract_version=nda)
    upcoming = AdvisoryFactory(title="Heap overflow in Example VPN gateway")
    WaveFactory(advisory=upcoming, level=AccessLevel.STANDARD, scheduled_at=timezone.now() + timedelta(days=3))
    WaveFactory(advisory=upcoming, level=AccessLevel.GENERIC, scheduled_at=upcoming.public_release_at)


def test_a_partner_from_application_to_download_until_suspension(new_page, nda, mailoutbox):
    manager = ProgramManagerFactory(email="manager@forewarn.test", first_name="Mara", last_name="Manager")
    manager_device = TOTPDevice.objects.create(user=manager, name="Phone", confirmed=True)
    _demo_program(nda)

    # 1. The applicant applies and confirms the email address.
    applicant = new_page()
    applicant.goto("/apply/")
    applicant.shot("01-apply")
    for field, value in {
        "legal_name": "Osprey Endpoint Security Oy",
        "website": "https://osprey.test",
        "email_domains": "osprey.test",
        "products": "EDR agent and network sensor.",
        "customer_base": "Nordic utilities and hospitals.",
        "ownership": "Founders 70%, Nordic Ventures 30%.",
        "security_contact_name": "Sanna Security",
        "security_contact_email": "psirt@osprey.test",
        "applicant_name": "Aino Admin",
        "applicant_email": "aino@osprey.test",
    }.items():
        applicant.fill(f"[name={field}]", value)
    applicant.select_option("[name=country]", "FI")
    applicant.click("main button[type=submit]")
    applicant.wait_for_url(re.compile(r"/apply/sent/"))
    applicant.goto(link_in(mailoutbox[-1], "/apply/confirm/"))
    applicant.click("main button[type=submit]")
    applicant.get_by_text("Osprey Endpoint Security Oy").first.wait_for()

    # 2. A program manager logs in (password and second factor), lands on the dashboard, reviews and approves.
    staff = new_page()
    _log_in(staff, email=manager.email, password=MANAGER_PASSWORD, device=manager_device)
    staff.wait_for_url(re.compile(r"/program/$"))
    staff.get_by_role("heading", name="Program dashboard").wait_for()
    staff.goto("/program/applications/")
    staff.shot("10-program-applications")
    staff.click("text=Osprey Endpoint Security Oy")
    staff.click("text=Start the review")
    for checkbox in staff.locator("form[action$='/checklist/'] input[type=checkbox]").all():
        checkbox.check()
    staff.click("text=Save the checklist")
    staff.select_option("[name=assigned_level]", str(AccessLevel.STANDARD.value))
    mailoutbox.clear()
    staff.click("text=Approve and invite the applicant")
    staff.get_by_text("is approved").wait_for()
    staff.shot("11-program-application-approved")
    partner = Partner.objects.get(legal_name="Osprey Endpoint Security Oy")
    invitation = next(message for message in mailoutbox if "Invitation" in message.subject)

    # 3. The invitee sets a password and enrols an authenticator app (code computed from the device stored).
    member = new_page()
    member.goto(link_in(invitation, "/invitations/"))
    member.fill("#id_password", PARTNER_PASSWORD)
    member.fill("#id_password_again", PARTNER_PASSWORD)
    member.click("main button[type=submit]")
    member.wait_for_url(re.compile(r"/mfa/setup/"))
    member.shot("20-mfa-setup")
    device = TOTPDevice.objects.get(user__email="aino@osprey.test", confirmed=False)
    member.fill("#id_token", current_totp(device))
    member.click("main button[type=submit]")
    member.click("text=Continue")

    # 4. The partner admin signs the NDA its level needs.
    member.goto("/portal/dashboard/")
    member.get_by_text("Agreements to sign").wait_for()
    member.shot("21-portal-dashboard-before-signing")
    member.click(f"text={nda.title}")
    member.wait_for_url(re.compile(r"/portal/agreements/sign/"))
    member.fill("[name=signer_name]", "Aino Admin")
    member.fill("[name=signer_title]", "Head of Threat Research")
    member.check("[name=consent]")
    member.click("main form button[type=submit]")
    member.get_by_text(f"is signed for {partner}").wait_for()
    member.goto("/portal/agreements/")
    member.shot("22-portal-agreements")
    assert partner.agreements.filter(contract_version=nda).exists()

    # 5. The standard wave releases (the release service the beat task calls).
    advisory = AdvisoryFactory(
        title="Authentication bypass in Example Firewall management API",
        affected_products="Example Firewall 9.0 to 9.4",
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        cvss_score="9.8",
    )
    DocumentFactory(advisory=advisory, level=AccessLevel.GENERIC, body_markdown="A generic summary of the flaw.")
    DocumentFactory(
        advisory=advisory, level=AccessLevel.STANDARD, body_markdown="## Details\n\nThe `/api/session` check..."
    )
    ArtifactFactory(advisory=advisory, level=AccessLevel.STANDARD, name="Detection rule")
    WaveFactory(advisory=advisory, level=AccessLevel.STANDARD, scheduled_at=timezone.now() - timedelta(seconds=1))
    assert services.release_due_waves()

    # 6. The partner sees it as new, acknowledges the handling terms, reads it and downloads the rule.
    member.goto("/portal/dashboard/")
    member.get_by_text(advisory.identifier).first.wait_for()
    member.shot("23-portal-dashboard")
    member.goto("/portal/")
    member.shot("24-portal-advisories")
    member.click(f"text={advisory.identifier}")
    member.wait_for_url(re.compile(r"/acknowledge/"))
    member.shot("25-portal-acknowledge")
    member.check("[name=acknowledge]")
    member.click("text=Acknowledge and open")
    # The prose is fingerprinted per reader (look-alike letters), so wait for the page's unaltered banner instead.
    member.get_by_text(f"issued to {partner}").wait_for()
    member.shot("26-portal-advisory")
    with member.expect_download() as download:
        member.click("text=Detection rule")
    assert download.value.suggested_filename
    assert HandlingAcknowledgement.objects.filter(advisory=advisory, user__email="aino@osprey.test").exists()
    assert DownloadEvent.objects.filter(advisory=advisory, partner=partner, artifact__isnull=False).exists()
    for path, name in [("/portal/team/", "27-portal-team"), ("/portal/api-tokens/", "28-portal-api-tokens")]:
        member.goto(path)
        member.shot(name)

    # 7. The program pages with this data.
    for path, name in [
        ("/program/", "30-program-dashboard"),
        ("/program/partners/", "31-program-partners"),
        (f"/program/partners/{partner.pk}/", "32-program-partner"),
        ("/program/advisories/", "33-program-advisories"),
        ("/program/advisories/calendar/", "34-program-calendar"),
        ("/program/contracts/", "35-program-contracts"),
        ("/program/contracts/signatures/", "36-program-signatures"),
        ("/program/reports/", "37-program-reports"),
        (f"/program/reports/advisories/{advisory.identifier}/distribution/", "38-program-distribution"),
    ]:
        staff.goto(path)
        assert staff.locator("main").is_visible()
        staff.shot(name)
    assert "aino@osprey.test" in staff.content()  # the distribution report names who downloaded it

    # 8. The manager suspends the organisation; the partner's next click is refused.
    staff.goto(f"/program/partners/{partner.pk}/")
    staff.fill("form[action$='/suspend/'] [name=reason]", "Leak under investigation")
    staff.click("form[action$='/suspend/'] button[type=submit]")
    staff.get_by_role("heading", name=f"Suspend {partner}?").wait_for()  # destructive: confirmed first
    staff.shot("39-program-confirm-suspension")
    assert Partner.objects.get(pk=partner.pk).status == PartnerStatus.ACTIVE
    staff.get_by_role("button", name="Suspend the organisation").click()
    staff.get_by_text("is suspended").wait_for()
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.SUSPENDED

    member.click("text=My advisories")
    member.get_by_text("no access", exact=False).first.wait_for()
    member.shot("40-portal-refused-after-suspension")
    assert advisory.title not in member.content()

    # A narrow screen gets the same pages, laid out in one column.
    phone = new_page(width=390, height=844)
    phone.context.add_cookies(staff.context.cookies())
    phone.goto("/program/")
    phone.shot("50-program-dashboard-phone")
