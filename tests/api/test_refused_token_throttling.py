"""Refused API tokens are throttled per client address: replaying a revoked token or guessing secrets gets 429 with
Retry-After after a few refusals, before any look-up, and the audit log gets at most one event per address and
window instead of one per request."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from partners import services as partner_services

LIST = reverse("api:advisories")
# Five seconds into the next minute: the one-minute windows start on the minute.
START = timezone.now().replace(second=5, microsecond=0) + timedelta(minutes=1)
LIMIT = 20  # FOREWARN_API_REFUSAL_RATE's default, 20/minute


@pytest.fixture
def revoked(early_token):
    token, secret = early_token
    partner_services.revoke_api_token(actor=token.created_by, token=token)
    return token, secret


@pytest.mark.django_db
def test_replaying_a_revoked_token_200_times_is_throttled_and_audited_once(revoked, api_client_for):
    _, secret = revoked
    api = api_client_for(secret)
    before = AuditEvent.objects.count()

    with time_machine.travel(START, tick=False):
        responses = [api.get(LIST, REMOTE_ADDR="198.51.100.66") for _ in range(200)]

    assert [r.status_code for r in responses] == [401] * LIMIT + [429] * (200 - LIMIT)
    assert int(responses[-1]["Retry-After"]) == 55  # the rest of the one-minute window
    assert "Too many refused tokens" in responses[-1].json()["detail"]
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [(e.action, e.details["refused"], e.ip_address) for e in events] == [
        ("api_token.refused", "revoked", "198.51.100.66")
    ]


@pytest.mark.django_db
def test_guessing_secrets_is_throttled_and_never_audited(api_client_for, early_token):
    before = AuditEvent.objects.count()

    with time_machine.travel(START, tick=False):
        statuses = [
            api_client_for(f"fwn_{number:08d}_guess").get(LIST, REMOTE_ADDR="198.51.100.66").status_code
            for number in range(200)
        ]

    assert statuses == [401] * LIMIT + [429] * (200 - LIMIT)
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_a_throttled_address_learns_nothing_even_with_a_valid_token(api_client_for, early_token):
    _, secret = early_token

    with time_machine.travel(START, tick=False):
        for number in range(LIMIT):
            api_client_for(f"fwn_{number:08d}_guess").get(LIST, REMOTE_ADDR="198.51.100.66")
        valid_from_throttled = api_client_for(secret).get(LIST, REMOTE_ADDR="198.51.100.66")
        valid_from_elsewhere = api_client_for(secret).get(LIST, REMOTE_ADDR="203.0.113.10")

    assert valid_from_throttled.status_code == 429
    assert valid_from_elsewhere.status_code == 200


@pytest.mark.django_db
def test_refusals_are_counted_afresh_in_the_next_window_with_one_more_audit_event(revoked, api_client_for):
    _, secret = revoked
    api = api_client_for(secret)
    before = AuditEvent.objects.count()

    with time_machine.travel(START, tick=False) as clock:
        for _ in range(LIMIT + 5):
            api.get(LIST, REMOTE_ADDR="198.51.100.66")
        clock.shift(timedelta(minutes=1))
        next_window = api.get(LIST, REMOTE_ADDR="198.51.100.66")

    assert next_window.status_code == 401
    assert list(AuditEvent.objects.order_by("id")[before:].values_list("action", flat=True)) == [
        "api_token.refused",
        "api_token.refused",
    ]


@pytest.mark.django_db
def test_requests_without_a_token_are_not_counted_as_refusals(api_client_for, early_token):
    _, secret = early_token
    anonymous = APIClient()

    with time_machine.travel(START, tick=False):
        for _ in range(LIMIT + 5):
            assert anonymous.get(LIST, REMOTE_ADDR="198.51.100.66").status_code == 401
        assert api_client_for(secret).get(LIST, REMOTE_ADDR="198.51.100.66").status_code == 200
