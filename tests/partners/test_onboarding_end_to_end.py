"""The whole onboarding path over HTTP: apply -> confirm email -> review and approve -> invitation -> first login."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.levels import AccessLevel
from partners.models import (
    DUE_DILIGENCE_CHECKLIST,
    ApplicationStatus,
    MemberRole,
    Partner,
    PartnerApplication,
    PartnerStatus,
)
from tests.factories import AgreementFactory

APPLICATION = {
    "legal_name": "Osprey Endpoint Security Oy",
    "trading_name": "Osprey",
    "country": "FI",
    "website": "https://osprey.test",
    "email_domains": "osprey.test, osprey-security.test",
    "products": "EDR agent and network sensor.",
    "customer_base": "Nordic utilities and hospitals.",
    "ownership": "Founders 70%, Nordic Ventures 30%.",
    "parent_company": "",
    "government_affiliations": "",
    "reporting_duty_details": "",
    "security_contact_name": "Sanna Security",
    "security_contact_email": "psirt@osprey.test",
    "applicant_name": "Aino Admin",
    "applicant_email": "aino@osprey.test",
}


def _link(message, path_prefix):
    match = re.search(rf"https?://[^/\s]+({re.escape(path_prefix)}\S+/)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.mark.django_db
def test_an_applicant_becomes_a_partner_admin_and_signs_in_over_http(
    client, manager, nda, poc_addendum, django_capture_on_commit_callbacks
):
    # 1. Apply: the application is stored unverified and the applicant receives a confirmation link.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("partners:apply"), APPLICATION)
    assert response.status_code == 302
    application = PartnerApplication.objects.get(legal_name="Osprey Endpoint Security Oy")
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.email_domains == ["osprey.test", "osprey-security.test"]
    assert [m.to for m in mail.outbox] == [["aino@osprey.test"]]
    confirm_path = _link(mail.outbox[0], "/apply/confirm/")

    # Unverified applications stay out of the reviewers' queue.
    staff = client.__class__()
    staff.force_login(manager)
    assert "Osprey" not in staff.get(reverse("program:application_list")).text

    # 2. Confirm the email address (GET shows a button, POST confirms).
    assert client.get(confirm_path).status_code == 200
    response = client.post(confirm_path)
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.status == ApplicationStatus.EMAIL_VERIFIED
    assert "Osprey" in staff.get(reverse("program:application_list")).text

    # 3. A program manager reviews: starts the review, completes the checklist, approves at standard.
    detail = reverse("program:application_detail", args=[application.pk])
    assert staff.get(detail).status_code == 200
    staff.post(reverse("program:application_start_review", args=[application.pk]))
    staff.post(
        reverse("program:application_checklist", args=[application.pk]),
        dict.fromkeys(DUE_DILIGENCE_CHECKLIST, "on"),
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("program:application_approve", args=[application.pk]), {"assigned_level": AccessLevel.STANDARD}
        )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    partner = Partner.objects.get(legal_name="Osprey Endpoint Security Oy")
    assert (partner.status, partner.assigned_level, partner.group.name) == (
        PartnerStatus.ACTIVE,
        AccessLevel.STANDARD,
        "partner:Osprey Endpoint Security Oy",
    )
    assert sorted(partner.domains.values_list("domain", flat=True)) == ["osprey-security.test", "osprey.test"]
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "[Forewarn] Invitation to join Osprey",
        "[Forewarn] Osprey Endpoint Security Oy is approved as a partner",
    ]
    invitation_message = next(m for m in mail.outbox if "Invitation" in m.subject)
    assert invitation_message.to == ["aino@osprey.test"]
    invitation_path = _link(invitation_message, "/invitations/")

    # The new partner signs its NDA (the contracts flow is another feature) so that the portal has content to show.
    AgreementFactory(partner=partner, contract_version=nda)

    # 4. The invitee opens the link, sets a password, and lands in the portal, logged in as partner admin.
    invitee = client.__class__()
    assert "aino@osprey.test" in invitee.get(invitation_path).text
    response = invitee.post(
        invitation_path, {"password": "kestrel-harbour-2026!", "password_again": "kestrel-harbour-2026!"}, follow=True
    )
    # Every account needs a second factor before anything else: the new admin enrols an authenticator app.
    assert response.redirect_chain[-1][0] == f"{reverse('mfa_setup')}?next={reverse('advisories:dashboard')}"
    device = TOTPDevice.objects.get(user__email="aino@osprey.test", confirmed=False)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    codes_page = invitee.post(reverse("mfa_setup"), {"token": code, "next": reverse("advisories:list")})
    recovery_codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", codes_page.text)
    response = invitee.get(reverse("advisories:list"))
    assert response.status_code == 200
    assert "Advisories for Osprey" in response.text
    membership = partner.memberships.get()
    assert (membership.user.email, membership.role, membership.is_active) == (
        "aino@osprey.test",
        MemberRole.ADMIN,
        True,
    )

    # 5. First login with the chosen password works; the link does not work twice.
    fresh = client.__class__()
    fresh.post(reverse("login"), {"username": "aino@osprey.test", "password": "kestrel-harbour-2026!"})
    response = fresh.post(reverse("mfa_verify"), {"token": recovery_codes[0], "next": "/portal/"}, follow=True)
    assert "Advisories for Osprey" in response.text
    assert "already been used" in fresh.get(invitation_path).text
