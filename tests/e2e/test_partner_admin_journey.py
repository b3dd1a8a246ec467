"""A partner admin's own work: the team (invite, withdraw an invitation, deactivate a colleague, each destructive
step confirmed), an API token (shown whole once, copied, working with curl's header, revoked after confirmation),
and the organisation's protection status (shipped in one report; the advisory page then thanks instead of
asking)."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisories import services
from advisories.models import ProtectionState, ProtectionStatus
from core.levels import AccessLevel
from partners.models import ApiToken, Invitation, PartnerMembership
from tests.e2e.conftest import log_in
from tests.factories import (
    AdvisoryFactory,
    DocumentFactory,
    MembershipFactory,
    PartnerDomainFactory,
    WaveFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def test_a_partner_admin_manages_team_tokens_and_protection_status(new_page, make_partner):
    partner = make_partner(level=AccessLevel.EARLY, legal_name="Osprey Endpoint Security Oy")
    PartnerDomainFactory(partner=partner, domain="osprey.test")
    admin = MembershipFactory(partner=partner, role="admin", user__email="aino@osprey.test").user
    admin.set_password(PASSWORD)
    admin.save()
    device = TOTPDevice.objects.create(user=admin, name="Phone", confirmed=True)
    colleague = MembershipFactory(partner=partner, role="analyst", user__email="ville@osprey.test")
    advisory = AdvisoryFactory(title="Heap overflow in Example VPN gateway")
    DocumentFactory(advisory=advisory, level=AccessLevel.STANDARD, body_markdown="The handler copies unchecked.")
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY)
    services.release_due_waves(now=advisory.waves.get().scheduled_at)

    page = new_page(timezone_id="Asia/Tokyo")
    log_in(page, email=admin.email, password=PASSWORD, device=device)

    # 1. Team: invite, withdraw the invitation, deactivate a colleague (each withdrawal confirmed first).
    page.goto("/portal/team/")
    page.fill("[name=email]", "satu@osprey.test")
    page.get_by_role("button", name="Send the invitation").click()
    page.get_by_text("Invitation sent to satu@osprey.test").wait_for()
    page.locator("tr", has_text="satu@osprey.test").get_by_role("button", name="Withdraw").click()
    page.get_by_role("heading", name="Withdraw the invitation of satu@osprey.test?").wait_for()
    assert Invitation.objects.get(email="satu@osprey.test").revoked_at is None
    page.get_by_role("button", name="Withdraw the invitation").click()
    page.get_by_text("The invitation of satu@osprey.test is withdrawn.").wait_for()
    page.locator("tr", has_text="ville@osprey.test").get_by_role("button", name="Deactivate").click()
    page.review("journey-partner-admin-confirm-deactivation")
    page.get_by_role("button", name="Deactivate").click()
    page.get_by_text("ville@osprey.test can no longer sign in").wait_for()
    assert not PartnerMembership.objects.get(pk=colleague.pk).is_active
    page.review("journey-partner-admin-team")

    # 2. An API token: the whole secret once, a copy button, a curl example that works as written.
    page.goto("/portal/api-tokens/")
    page.fill("[name=name]", "EDR content pipeline")
    page.select_option("[name=scope]", "report")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").inner_text().strip()
    token = ApiToken.objects.get(name="EDR content pipeline")
    assert token.prefix in secret and len(secret) > len(token.prefix) + 16
    example = page.locator("#new-token-example").inner_text()
    assert f'-H "Authorization: Bearer {secret}"' in example
    api_url = re.search(r"(https?://\S+/api/v1/advisories/)", example).group(1)
    copy = page.get_by_role("button", name="Copy the token")
    assert copy.is_visible()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy.click()
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.review("journey-partner-admin-token-created")
    assert page.request.get(api_url, headers={"Authorization": f"Bearer {secret}"}).status == 200
    assert page.request.get(api_url, headers={"Authorization": f"Bearer {token.prefix}"}).status == 401
    revoke = page.locator("tr", has_text="EDR content pipeline").get_by_role("button", name="Revoke…")
    assert "danger-outline" in revoke.get_attribute("class")  # not styled as the page's primary action
    revoke.click()
    page.get_by_role("heading", name=re.compile("Revoke the token")).wait_for()
    page.get_by_role("button", name="Revoke the token").click()
    page.get_by_text("is revoked; it is refused from now on").wait_for()
    assert page.request.get(api_url, headers={"Authorization": f"Bearer {secret}"}).status == 401

    # 3. Protection status: shipped straight from "not started", in one report.
    page.goto(f"/portal/advisories/{advisory.identifier}/")
    page.check("[name=acknowledge]")
    page.get_by_role("button", name="Acknowledge and open").click()
    panel = page.locator(".protection-panel")
    assert "before the public release" in panel.inner_text()
    panel.get_by_role("link", name="Report protection status or feedback").click()
    page.select_option("[name=state]", "shipped")
    page.fill("[name=products]", "Osprey EDR 7.4.2")
    page.fill("[name=signature_ids]", "OSP-2026-0001")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Your protection status is saved.").wait_for()
    status = ProtectionStatus.objects.get(advisory=advisory, partner=partner)
    assert status.state == ProtectionState.SHIPPED and status.shipped_at is not None
    page.goto(f"/portal/advisories/{advisory.identifier}/")
    panel_text = page.locator(".protection-panel").inner_text()
    assert "has shipped" in panel_text and "before the public release" not in panel_text
    page.review("journey-partner-admin-advisory-shipped")
    assert page.problems == [], "\n".join(page.problems)
