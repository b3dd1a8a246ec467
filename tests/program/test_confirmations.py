"""Destructive actions ask first, on a page of their own that needs no script: the first POST changes nothing and
answers with what will happen and the same values carried in hidden fields; only the confirmed POST acts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from advisories import services
from advisories.models import AdvisoryStatus
from compliance import services as compliance_services
from compliance.models import EnforcementAction
from partners import services as partner_services
from partners.models import ApiToken, ApplicationStatus, Invitation, MemberRole, PartnerMembership, PartnerStatus
from tests.confirmation import CONFIRMED
from tests.factories import ComplianceOfficerFactory, PartnerApplicationFactory, PartnerDomainFactory

pytestmark = pytest.mark.django_db


def _asks_first(response, *, title: str, carried: dict | None = None) -> None:
    assert response.status_code == 200
    assert title in response.text
    assert '<input type="hidden" name="confirmed" value="yes">' in response.text
    assert "No, go back" in response.text
    for name, value in (carried or {}).items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in response.text


@pytest.fixture
def planned(manager, hours_from_now):
    advisory = services.create_advisory(actor=manager, title="Planned", public_release_at=hours_from_now(3))
    return services.set_release_plan(actor=manager, advisory=advisory, public_release_at=hours_from_now(3))


def test_cancelling_a_plan_asks_first_and_changes_nothing_when_not_confirmed(manager_client, planned):
    url = reverse("program_advisories:plan_cancel", args=[planned.identifier])

    _asks_first(manager_client.post(url), title=f"Cancel the release plan of {planned.identifier}?")
    planned.refresh_from_db()
    assert planned.status == AdvisoryStatus.SCHEDULED

    manager_client.post(url, CONFIRMED)
    planned.refresh_from_db()
    assert planned.status == AdvisoryStatus.DRAFT


def test_withdrawing_asks_first_with_the_reason_carried_when_not_confirmed(manager_client, planned):
    url = reverse("program_advisories:withdraw", args=[planned.identifier])

    response = manager_client.post(url, {"reason": "Duplicate of FWN-2026-0001."})

    _asks_first(response, title=f"Withdraw {planned.identifier}?", carried={"reason": "Duplicate of FWN-2026-0001."})
    planned.refresh_from_db()
    assert planned.status == AdvisoryStatus.SCHEDULED


def test_withdrawing_without_a_reason_is_refused_before_any_confirmation(manager_client, planned):
    response = manager_client.post(reverse("program_advisories:withdraw", args=[planned.identifier]), CONFIRMED)

    assert response.status_code == 200
    assert 'name="confirmed"' not in response.text
    planned.refresh_from_db()
    assert planned.status == AdvisoryStatus.SCHEDULED


@pytest.mark.parametrize(
    ("action", "data", "title"),
    [
        ("program:partner_suspend", {"reason": "Leak under investigation", "until": ""}, "Suspend Target Ltd?"),
        ("program:partner_remove", {"reason": "Sold advisories"}, "Remove Target Ltd from the program for good?"),
    ],
)
def test_changing_an_organisations_standing_asks_first_when_not_confirmed(
    manager_client, make_partner, action, data, title
):
    partner = make_partner(legal_name="Target Ltd")

    response = manager_client.post(reverse(action, args=[partner.pk]), data)

    _asks_first(response, title=title, carried={"reason": data["reason"]})
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.ACTIVE


def test_rejecting_an_application_asks_first_when_not_confirmed(manager_client):
    application = PartnerApplicationFactory(status=ApplicationStatus.UNDER_REVIEW, legal_name="Doubtful GmbH")

    response = manager_client.post(
        reverse("program:application_reject", args=[application.pk]), {"reason": "Not a security vendor."}
    )

    _asks_first(response, title="Reject the application of Doubtful GmbH?")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW


@pytest.fixture
def team(make_partner, member_of):
    partner = make_partner(legal_name="Kestrel IDS Ltd")
    PartnerDomainFactory(partner=partner, domain="kestrel.test")
    admin = member_of(partner, role=MemberRole.ADMIN)
    analyst = member_of(partner, role=MemberRole.ANALYST)
    return partner, admin, analyst


def test_deactivating_a_colleague_asks_first_when_not_confirmed(client, team):
    _, admin, analyst = team
    client.force_login(admin)

    response = client.post(reverse("partners:deactivate_member", args=[analyst.membership.pk]))

    _asks_first(response, title=f"Deactivate {analyst.email}?")
    assert PartnerMembership.objects.get(user=analyst).is_active


def test_withdrawing_an_invitation_asks_first_when_not_confirmed(client, team):
    partner, admin, _ = team
    invitation = partner_services.invite_member(partner=partner, actor=admin, email="new@kestrel.test", role="analyst")
    client.force_login(admin)

    response = client.post(reverse("partners:revoke_invitation", args=[invitation.pk]))

    _asks_first(response, title="Withdraw the invitation of new@kestrel.test?")
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
    client.post(reverse("partners:revoke_invitation", args=[invitation.pk]), CONFIRMED)
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None


def test_revoking_an_api_token_asks_first_when_not_confirmed(client, team):
    _, admin, _ = team
    token, _secret = partner_services.create_api_token(
        actor=admin, name="Pipeline", expires_at=timezone.now() + timedelta(days=30)
    )
    client.force_login(admin)

    response = client.post(reverse("advisories:revoke_api_token", args=[token.pk]))

    _asks_first(response, title="Revoke the token “Pipeline”")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


@pytest.mark.parametrize("kind", ["suspension", "removal", "level_cap"])
def test_an_enforcement_that_changes_access_asks_first_when_not_confirmed(client, make_partner, kind):
    officer = ComplianceOfficerFactory()
    partner = make_partner(legal_name="Leaky Ltd")
    violation = compliance_services.report_violation(
        actor=officer, partner=partner, kind="leak", severity="high", summary="Leak"
    )
    compliance_services.start_investigation(violation=violation, actor=officer, note="Looking")
    compliance_services.substantiate_violation(violation=violation, actor=officer, note="Confirmed")
    client.force_login(officer)

    response = client.post(
        reverse("compliance:violation_enforce", args=[violation.pk]),
        {"kind": kind, "reason": "Leaked a PoC.", "cap_level": "1", "ends_at": ""},
    )

    _asks_first(response, title="against Leaky Ltd?", carried={"kind": kind, "reason": "Leaked a PoC."})
    assert not EnforcementAction.objects.exists()
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.ACTIVE
