"""Indicators partners submit for an advisory: validated per type, stored normalised, audited, 404 for
organisations that did not receive the advisory, visible to program managers."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from advisories import services as advisory_services
from advisories.models import PartnerIndicator
from advisories.protection import services
from compliance.entitlements import partner_access
from core.models import AuditEvent
from core.roles import COMPLIANCE_OFFICERS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def submit(access, advisory, indicator_type, value, **fields):
    fields.setdefault("first_seen", timezone.now() - timedelta(hours=1))
    fields.setdefault("confidence", "high")
    return services.submit_partner_indicator(
        access=access, advisory=advisory, indicator_type=indicator_type, value=value, **fields
    )


@pytest.mark.parametrize(
    ("indicator_type", "value", "stored"),
    [
        ("ip", "192.0.2.10", "192.0.2.10"),
        ("ip", "2001:DB8:0:0::1", "2001:db8::1"),
        ("domain", "Bad.Example.COM.", "bad.example.com"),
        ("url", "https://bad.example.com/payload?id=1", "https://bad.example.com/payload?id=1"),
        ("sha256", "A" * 64, "a" * 64),
        ("md5", "0123456789ABCDEF0123456789abcdef", "0123456789abcdef0123456789abcdef"),
        ("yara_rule", "Acme_Exploit_Loader_2026", "Acme_Exploit_Loader_2026"),
        ("cve", "cve-2026-12345", "CVE-2026-12345"),
        ("other", "  User-Agent: evil-scanner/1.0 ", "User-Agent: evil-scanner/1.0"),
    ],
)
def test_indicator_is_stored_normalised_when_its_value_is_valid(received, advisory, indicator_type, value, stored):
    indicator = submit(received, advisory, indicator_type, value)

    assert PartnerIndicator.objects.get(pk=indicator.pk).value == stored


@pytest.mark.parametrize(
    ("indicator_type", "value", "message"),
    [
        ("ip", "999.1.1.1", "Not an IP address"),
        ("ip", "192.0.2.0/24", "Not an IP address"),
        ("domain", "not a domain", "Not a domain name"),
        ("domain", "localhost", "Not a domain name"),
        ("domain", "-bad-.example.com", "Not a domain name"),
        ("url", "javascript:alert(1)", "Not a URL"),
        ("url", "bad.example.com/no-scheme", "Not a URL"),
        ("sha256", "a" * 63, "expected 64 hexadecimal characters, got 63"),
        ("sha256", "g" * 64, "Not a SHA256 hash"),
        ("md5", "a" * 40, "expected 32 hexadecimal characters, got 40"),
        ("yara_rule", "1starts_with_digit", "Not a YARA rule name"),
        ("yara_rule", "has space", "Not a YARA rule name"),
        ("cve", "CVE-26-1", "Not a CVE id"),
        ("other", "   ", "Give the indicator's value."),
        ("other", "line\nbreak\x00", "control characters"),
    ],
)
def test_indicator_is_refused_with_a_clear_message_when_its_value_is_invalid(
    received, advisory, indicator_type, value, message
):
    with pytest.raises(ValidationError, match=re.escape(message)) as refusal:
        submit(received, advisory, indicator_type, value)

    assert message in " ".join(refusal.value.message_dict["value"])
    assert not PartnerIndicator.objects.exists()


def test_indicator_is_refused_when_first_seen_is_in_the_future(received, advisory):
    with pytest.raises(ValidationError, match="The first-seen time cannot be in the future") as refusal:
        submit(received, advisory, "ip", "192.0.2.10", first_seen=timezone.now() + timedelta(minutes=5))

    assert refusal.value.message_dict["first_seen"] == ["The first-seen time cannot be in the future."]


@pytest.mark.parametrize(("field", "value"), [("confidence", "certain"), ("indicator_type", "email")])
def test_indicator_is_refused_when_a_choice_is_unknown(received, advisory, field, value):
    fields = {"indicator_type": "ip", "confidence": "high", field: value}

    with pytest.raises(ValidationError, match="Choose low, medium or high|Unknown indicator type") as refusal:
        submit(received, advisory, fields.pop("indicator_type"), "192.0.2.10", **fields)

    assert field in refusal.value.message_dict


def test_indicator_is_refused_when_the_organisation_already_reported_the_same_value(received, advisory):
    submit(received, advisory, "domain", "bad.example.com")

    with pytest.raises(ValidationError, match="already reported this indicator for this advisory") as refusal:
        submit(received, advisory, "domain", "BAD.example.com.")

    assert "already reported" in refusal.value.message_dict["value"][0]
    assert PartnerIndicator.objects.count() == 1


def test_indicator_is_refused_when_the_organisation_did_not_receive_the_advisory(outsider, advisory):
    with pytest.raises(PermissionDenied, match="Only organisations that received this advisory may report on it"):
        submit(partner_access(outsider[1]), advisory, "ip", "192.0.2.10")


def test_indicator_submission_is_audited_with_whether_it_predates_the_public_release(received, advisory):
    indicator = submit(received, advisory, "ip", "192.0.2.10")

    event = AuditEvent.objects.get(action="protection.indicator_submitted")
    assert event.target_id == str(indicator.pk)
    assert event.details["before_public_release"] is True


# Portal ------------------------------------------------------------------------------------------------------------


def indicators_url(advisory):
    return reverse("advisories:indicators", args=[advisory.identifier])


def form_data(**fields):
    return {
        "indicator_type": "ip",
        "value": "192.0.2.10",
        "first_seen": "2026-01-01T10:00",
        "confidence": "high",
    } | fields


def test_partner_submits_an_indicator_through_the_portal(client, received, advisory):
    client.force_login(received.user)
    first_seen = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(indicators_url(advisory), form_data(first_seen=first_seen))

    assert response.status_code == 302
    indicator = PartnerIndicator.objects.get()
    assert (indicator.partner, indicator.submitted_by, indicator.api_token) == (received.partner, received.user, None)
    assert "192.0.2.10" in client.get(indicators_url(advisory)).text


def test_portal_shows_the_validation_message_beside_the_value(client, received, advisory):
    client.force_login(received.user)
    first_seen = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        indicators_url(advisory), form_data(indicator_type="sha256", value="abc", first_seen=first_seen)
    )

    assert response.status_code == 400
    assert "expected 64 hexadecimal characters" in str(response.context["form"].errors["value"])


@pytest.mark.parametrize("method", ["get", "post"])
def test_portal_answers_404_when_the_organisation_did_not_receive_the_advisory(client, outsider, advisory, method):
    client.force_login(outsider[1])

    response = getattr(client, method)(indicators_url(advisory), form_data() if method == "post" else None)

    assert response.status_code == 404
    assert not PartnerIndicator.objects.exists()


def test_partner_sees_only_its_own_indicators(client, received, advisory, make_partner, member_of):
    other = make_partner(legal_name="Second Receiver")
    advisory_services.deliver_due_waves(partner_ids=[other.pk])
    submit(partner_access(member_of(other)), advisory, "domain", "other-org.example.com")
    submit(received, advisory, "domain", "mine.example.com")
    client.force_login(received.user)

    response = client.get(indicators_url(advisory))

    assert [i.value for i in response.context["indicators"]] == ["mine.example.com"]


# Staff -------------------------------------------------------------------------------------------------------------


def coverage_url(advisory):
    return reverse("protection:coverage", args=[advisory.identifier])


def test_program_manager_sees_indicators_on_the_coverage_page(client, received, advisory, manager):
    submit(received, advisory, "domain", "exploit.example.net")
    client.force_login(manager)

    response = client.get(coverage_url(advisory))

    assert "exploit.example.net" in response.text
    assert "before public release" in response.text


def test_compliance_officer_sees_coverage_but_not_indicators(client, received, advisory):
    officer = UserFactory(is_staff=True)
    officer.groups.add(Group.objects.get_or_create(name=COMPLIANCE_OFFICERS)[0])
    submit(received, advisory, "domain", "exploit.example.net")
    client.force_login(officer)

    response = client.get(coverage_url(advisory))

    assert response.status_code == 200
    assert "exploit.example.net" not in response.text
