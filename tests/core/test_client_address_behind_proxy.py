"""Behind the reverse proxy every request arrives from the proxy's address. The login lockout, the /apply/ limit,
refused-token throttling, audit events and download records must all see the real client (one helper,
core.http.client_ip), and none may believe an X-Forwarded-For the client wrote itself."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from advisories import services
from advisories.models import DownloadEvent
from core.levels import AccessLevel
from core.models import AuditEvent
from partners import services as partner_services
from partners.models import MemberRole, PartnerApplication
from tests.factories import UserFactory, WaveFactory, acknowledge_handling_for_every_member

PASSWORD = "correct horse battery staple"
PROXY = "10.0.0.2"


@pytest.fixture
def one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = []


def via_proxy(client_address, forwarded_by_client=None):
    """What the web node sees of a request that came through the proxy: the proxy's peer address, and the header
    with whatever the client sent followed by the address the proxy saw."""
    header = f"{forwarded_by_client}, {client_address}" if forwarded_by_client else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": header}


def log_in(client, email, password, **meta):
    return client.post(reverse("login"), {"username": email, "password": password}, **meta)


@pytest.fixture
def account(db):
    return UserFactory(email="analyst@northwind.test")


@pytest.mark.django_db
def test_two_clients_behind_the_proxy_are_locked_out_independently(one_proxy, account):
    attacker, owner = Client(), Client()
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        log_in(attacker, account.email, "wrong password", **via_proxy("198.51.100.66"))
    assert log_in(attacker, account.email, PASSWORD, **via_proxy("198.51.100.66")).status_code == 429

    response = log_in(owner, account.email, PASSWORD, **via_proxy("203.0.113.10"))

    assert response.status_code == 302
    assert "_auth_user_id" in owner.session


@pytest.mark.django_db
def test_a_client_rotating_a_forged_header_through_the_proxy_is_still_locked_out(one_proxy, account):
    attacker = Client()
    for attempt in range(django_settings.AXES_FAILURE_LIMIT):
        log_in(attacker, account.email, "wrong", **via_proxy("198.51.100.66", forwarded_by_client=f"192.0.2.{attempt}"))

    response = log_in(attacker, account.email, PASSWORD, **via_proxy("198.51.100.66", forwarded_by_client="192.0.2.99"))

    assert response.status_code == 429


@pytest.mark.django_db
def test_a_forged_header_is_ignored_without_a_trusted_proxy(settings, account):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.TRUSTED_PROXIES = []
    attacker = Client()
    for attempt in range(django_settings.AXES_FAILURE_LIMIT):
        log_in(attacker, account.email, "wrong", REMOTE_ADDR="198.51.100.66", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}")

    response = log_in(attacker, account.email, PASSWORD, REMOTE_ADDR="198.51.100.66", HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert response.status_code == 429


@pytest.mark.django_db
def test_a_peer_outside_the_trusted_networks_cannot_use_the_header(settings, account):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    attacker = Client()
    # Straight to the web node, around the proxy: its header must not count.
    for attempt in range(django_settings.AXES_FAILURE_LIMIT):
        log_in(attacker, account.email, "wrong", REMOTE_ADDR="198.51.100.66", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}")

    assert log_in(attacker, account.email, PASSWORD, REMOTE_ADDR="198.51.100.66").status_code == 429


def _apply(client, number, **meta):
    return client.post(
        reverse("partners:apply"),
        {
            "legal_name": f"Heron {number} BV",
            "country": "NL",
            "website": f"https://heron{number}.test",
            "email_domains": f"heron{number}.test",
            "products": "IDS appliances.",
            "customer_base": "Dutch municipalities.",
            "ownership": "Employee owned.",
            "security_contact_name": "Sec Team",
            "security_contact_email": f"psirt@heron{number}.test",
            "applicant_name": "Henk Heron",
            "applicant_email": f"henk@heron{number}.test",
        },
        **meta,
    )


@pytest.mark.django_db
def test_the_application_limit_applies_to_each_real_client_behind_the_proxy(one_proxy, settings):
    settings.APPLICATION_RATE = "2/h"
    first, second = Client(), Client()
    assert _apply(first, 1, **via_proxy("198.51.100.66")).status_code == 302
    assert _apply(first, 2, **via_proxy("198.51.100.66", forwarded_by_client="192.0.2.1")).status_code == 302
    assert _apply(first, 3, **via_proxy("198.51.100.66", forwarded_by_client="192.0.2.2")).status_code == 429

    response = _apply(second, 4, **via_proxy("203.0.113.10"))

    assert response.status_code == 302
    assert PartnerApplication.objects.count() == 3


@pytest.mark.django_db
def test_audit_events_and_download_records_carry_the_real_client_address(one_proxy, make_partner, member_of, advisory):
    partner = make_partner(level=AccessLevel.EARLY)
    reader = Client()
    reader.force_login(member_of(partner))
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    services.release_due_waves()
    acknowledge_handling_for_every_member(advisory)

    reader.get(
        reverse("advisories:detail", args=[advisory.identifier]),
        **via_proxy("198.51.100.7", forwarded_by_client="192.0.2.1"),
    )
    stranger = UserFactory(email="someone@northwind.test")
    TOTPDevice.objects.create(user=stranger, name="Phone", confirmed=True)
    other = Client()
    log_in(other, stranger.email, PASSWORD, **via_proxy("203.0.113.10"))
    other.post(reverse("mfa_verify"), {"token": "000000"}, **via_proxy("203.0.113.10"))

    assert DownloadEvent.objects.get().ip_address == "198.51.100.7"
    assert AuditEvent.objects.get(action="mfa.failed").ip_address == "203.0.113.10"


@pytest.mark.django_db
def test_refused_tokens_are_throttled_per_real_client_behind_the_proxy(one_proxy, settings, make_partner, member_of):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "api_token_refused": "5/minute",
        },
    }
    partner = make_partner(level=AccessLevel.EARLY)
    admin = member_of(partner, role=MemberRole.ADMIN)
    _, secret = partner_services.create_api_token(
        actor=admin, name="Pipeline", expires_at=timezone.now() + timedelta(days=30)
    )
    guesser = APIClient()
    guesser.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    statuses = [guesser.get("/api/v1/advisories/", **via_proxy("198.51.100.66")).status_code for _ in range(7)]
    honest = APIClient()
    honest.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = honest.get("/api/v1/advisories/", **via_proxy("203.0.113.10"))

    assert statuses == [401] * 5 + [429] * 2
    assert response.status_code == 200
