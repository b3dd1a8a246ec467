"""seed_demo gives a newcomer a working program: idempotent, audited, with a live release in the next minutes."""

import base64
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP

from advisories import services
from advisories.models import Advisory, Delivery, ReleaseWave, WaveStatus
from compliance.entitlements import effective_level
from core.levels import AccessLevel
from core.selectors import verify_audit_chain
from partners.models import Partner, PartnerMembership, PartnerStatus


def _counts():
    return {model.__name__: model.objects.count() for model in (Partner, PartnerMembership, Advisory, Delivery)}


@pytest.mark.django_db
def test_seed_demo_loads_a_program_and_prints_the_logins(capsys):
    call_command("seed_demo")

    output = capsys.readouterr().out
    assert "manager@forewarn.test" in output
    assert "admin@northwind.test" in output
    assert "forewarn-demo-2026" in output
    assert Partner.objects.count() == 10
    assert Partner.objects.filter(status=PartnerStatus.SUSPENDED).count() == 1
    levels = {str(p.country): effective_level(p) for p in Partner.objects.all()}
    assert levels["CN"] == AccessLevel.GENERIC
    assert levels["CA"] == AccessLevel.NONE
    assert levels["FR"] == AccessLevel.STANDARD
    assert levels["US"] == AccessLevel.EARLY
    assert verify_audit_chain().intact


@pytest.mark.django_db
def test_seed_demo_run_twice_adds_nothing_the_second_time():
    call_command("seed_demo")
    before = _counts()

    call_command("seed_demo")

    assert _counts() == before


@pytest.mark.django_db
def test_seed_demo_schedules_waves_that_release_live_within_minutes():
    call_command("seed_demo")
    live = ReleaseWave.objects.filter(status=WaveStatus.SCHEDULED).order_by("scheduled_at")
    assert [wave.level for wave in live] == [AccessLevel.EARLY, AccessLevel.STANDARD, AccessLevel.GENERIC]
    assert live.last().scheduled_at <= timezone.now() + timedelta(minutes=7)
    advisory = live.first().advisory

    with time_machine.travel(timezone.now() + timedelta(minutes=7)):
        services.release_due_waves()

    delivered_to = {str(d.partner.country) for d in Delivery.objects.filter(advisory=advisory)}
    assert delivered_to == {"US", "DE", "GB", "JP", "FR", "CN", "IL", "AU"}


@pytest.mark.django_db
def test_demo_accounts_log_in_with_the_printed_secret(client, capsys, settings):
    call_command("seed_demo")
    output = capsys.readouterr().out
    secret = next(line.split()[2] for line in output.splitlines() if "admin@northwind.test" in line and "TOTP" in line)
    settings.DEBUG = True
    call_command("demo_totp_code", "admin@northwind.test")
    printed_code = capsys.readouterr().out.strip()

    client.post(reverse("login"), {"username": "admin@northwind.test", "password": "forewarn-demo-2026"})
    expected = TOTP(base64.b32decode(secret + "=" * (-len(secret) % 8))).token()
    assert printed_code == f"{expected:06d}"
    response = client.post(reverse("mfa_verify"), {"token": printed_code})

    assert response.status_code == 302
    assert client.get(reverse("advisories:list")).status_code == 200
