"""Protection status and indicators through the partner API: the same rules as the portal (state machine, 404 for
an organisation that did not receive the advisory, validation), writing only with a `report`-scope token."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from advisories.models import PartnerIndicator, ProtectionState, ProtectionStatus
from core.levels import AccessLevel
from core.models import AuditEvent
from partners import services as partner_services
from partners.models import ApiToken, ApiTokenScope, MemberRole
from tests.api.conftest import release
from tests.factories import acknowledge_handling_for_every_member

pytestmark = pytest.mark.django_db


def protection_path(advisory):
    return f"/api/v1/advisories/{advisory.identifier}/protection/"


def indicators_path(advisory):
    return f"/api/v1/advisories/{advisory.identifier}/indicators/"


@pytest.fixture
def report_token(early_partner, member_of):
    admin = member_of(early_partner, role=MemberRole.ADMIN)
    return partner_services.create_api_token(
        actor=admin, name="SOAR", expires_at=timezone.now() + timedelta(days=30), scope=ApiTokenScope.REPORT
    )


@pytest.fixture
def reporter(api_client_for, report_token, advisory):
    release(advisory, AccessLevel.EARLY)
    return api_client_for(report_token[1])


@pytest.fixture
def outsider_api(reporter, make_partner, make_token, api_client_for):
    """A report-scope token of an early organisation that joined after the release."""
    partner = make_partner(level=AccessLevel.EARLY)
    _, secret = make_token(partner)
    ApiToken.objects.filter(partner=partner).update(scope=ApiTokenScope.REPORT)
    return api_client_for(secret)


def test_status_reads_not_started_before_any_report(reporter, advisory):
    response = reporter.get(protection_path(advisory))

    assert response.status_code == 200
    assert response.json()["state"] == "not_started"
    assert response.json()["next_states"] == ["in_progress", "shipped", "not_applicable"]
    assert response.json()["updated_at"] is None


def test_report_token_moves_the_status_through_the_state_machine(reporter, advisory, early_partner, report_token):
    assert reporter.put(protection_path(advisory), {"state": "in_progress"}, format="json").status_code == 200

    response = reporter.put(
        protection_path(advisory),
        {"state": "shipped", "products": "Acme IPS 12", "signature_ids": "SID-1\nSID-2"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["state"] == "shipped"
    status = ProtectionStatus.objects.get(advisory=advisory, partner=early_partner)
    assert (status.state, status.signature_ids) == (ProtectionState.SHIPPED, "SID-1\nSID-2")
    event = AuditEvent.objects.filter(action="protection.status_reported").latest("id")
    assert event.details["api_token"] == report_token[0].prefix


def test_api_refuses_a_transition_the_state_machine_does_not_allow(reporter, advisory):
    assert reporter.put(protection_path(advisory), {"state": "not_applicable"}, format="json").status_code == 200

    response = reporter.put(protection_path(advisory), {"state": "in_progress"}, format="json")

    assert response.status_code == 400
    assert "cannot go from" in response.json()["state"][0]
    assert ProtectionStatus.objects.get().state == "not_applicable"


def test_api_and_portal_refuse_the_same_report_alike(reporter, advisory, client, member_of, early_partner):
    analyst = member_of(early_partner)
    acknowledge_handling_for_every_member(advisory)
    client.force_login(analyst)
    portal = client.post(reverse("advisories:protection", args=[advisory.identifier]), {"state": "shipped"})
    api = reporter.put(protection_path(advisory), {"state": "shipped"}, format="json")

    assert (portal.status_code, api.status_code) == (400, 400)
    assert not ProtectionStatus.objects.exists()


def test_feedback_is_sent_with_the_status(reporter, advisory):
    response = reporter.put(
        protection_path(advisory),
        {"state": "in_progress", "feedback": {"kind": "detection_quality", "text": "The rule misses variant B."}},
        format="json",
    )

    assert response.status_code == 200
    assert advisory.protection_feedback.get().text == "The rule misses variant B."


def test_read_only_token_may_read_but_not_report(early_api, advisory):
    release(advisory, AccessLevel.EARLY)

    assert early_api.get(protection_path(advisory)).status_code == 200
    response = early_api.put(protection_path(advisory), {"state": "in_progress"}, format="json")
    posted = early_api.post(
        indicators_path(advisory),
        {"type": "ip", "value": "192.0.2.1", "first_seen": "2026-01-01T00:00:00Z", "confidence": "low"},
        format="json",
    )

    assert (response.status_code, posted.status_code) == (403, 403)
    assert "read-only" in response.json()["detail"]
    assert not ProtectionStatus.objects.exists() and not PartnerIndicator.objects.exists()


def test_report_token_still_cannot_write_elsewhere(reporter, advisory):
    response = reporter.post(f"/api/v1/advisories/{advisory.identifier}/", {}, format="json")

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", protection_path), ("put", protection_path), ("get", indicators_path), ("post", indicators_path)],
)
def test_api_answers_404_when_the_organisation_did_not_receive_the_advisory(outsider_api, advisory, method, path):
    body = {"state": "in_progress", "type": "ip", "value": "192.0.2.1", "first_seen": "2026-01-01T00:00:00Z"}

    response = getattr(outsider_api, method)(path(advisory), body | {"confidence": "low"}, format="json")

    assert response.status_code == 404
    assert not ProtectionStatus.objects.exists() and not PartnerIndicator.objects.exists()


def test_indicator_is_submitted_normalised_with_the_token_recorded(reporter, advisory, report_token):
    response = reporter.post(
        indicators_path(advisory),
        {"type": "sha256", "value": "AB" * 32, "first_seen": "2026-01-01T10:00:00+02:00", "confidence": "high"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["value"] == "ab" * 32
    assert response.json()["first_seen"] == "2026-01-01T08:00:00+00:00"
    indicator = PartnerIndicator.objects.get()
    assert indicator.api_token == report_token[0]
    assert [row["id"] for row in reporter.get(indicators_path(advisory)).json()] == [indicator.pk]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"type": "ip", "value": "300.1.1.1"}, "value", "Not an IP address"),
        ({"type": "md5", "value": "abc"}, "value", "expected 32 hexadecimal characters"),
        ({"type": "domain", "value": "no_underscores.example"}, "value", "Not a domain name"),
        ({"type": "ip", "value": "192.0.2.1", "first_seen": "2999-01-01T00:00:00Z"}, "first_seen", "future"),
        ({"type": "ip", "value": "192.0.2.1", "first_seen": "2026-01-01T00:00:00"}, "first_seen", "offset"),
        ({"type": "email", "value": "a@b.example"}, "type", "not a valid choice"),
    ],
)
def test_api_refuses_a_bad_indicator_with_a_clear_message(reporter, advisory, body, field, message):
    body = {"first_seen": "2026-01-01T00:00:00Z", "confidence": "medium"} | body

    response = reporter.post(indicators_path(advisory), body, format="json")

    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not PartnerIndicator.objects.exists()


def test_partner_admin_chooses_the_report_scope_when_creating_a_token(client, early_partner, member_of):
    admin = member_of(early_partner, role=MemberRole.ADMIN)
    client.force_login(admin)

    client.post(reverse("advisories:api_tokens"), {"name": "SOAR", "expires_in_days": 90, "scope": "report"})
    client.post(reverse("advisories:api_tokens"), {"name": "Reader", "expires_in_days": 90})

    assert dict(ApiToken.objects.values_list("name", "scope")) == {"SOAR": "report", "Reader": "read"}
    assert AuditEvent.objects.filter(action="api_token.created", details__scope="report").exists()
