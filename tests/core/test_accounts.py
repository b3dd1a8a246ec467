"""Accounts: password then a mandatory second factor, lockout, password reset without an existence oracle, idle
expiry, security headers, and production settings that pass Django's deployment checks."""

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher, make_password
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery staple"


def _current_code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _log_in(client, email, password=PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


@pytest.mark.django_db
def test_first_login_requires_enrolling_an_authenticator_before_anything_else(client, partner_user):
    response = _log_in(client, partner_user.email)
    assert response.status_code == 302

    for url in (reverse("advisories:list"), reverse("admin:index"), reverse("home")):
        blocked = client.get(url)
        assert blocked.status_code == 302
        assert blocked["Location"].startswith(reverse("mfa_setup"))


@pytest.mark.django_db
def test_enrolling_with_a_valid_code_shows_recovery_codes_once_and_opens_the_portal(client, partner_user):
    _log_in(client, partner_user.email)
    setup_page = client.get(reverse("mfa_setup"))
    assert "<svg" in setup_page.text
    device = TOTPDevice.objects.get(user=partner_user, confirmed=False)
    assert re.search(r"[A-Z2-7]{16,}", setup_page.text)

    response = client.post(reverse("mfa_setup"), {"token": _current_code(device), "next": reverse("advisories:list")})

    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.text)
    assert len(codes) == 10
    assert client.get(reverse("advisories:list")).status_code == 200


@pytest.mark.django_db
def test_a_wrong_enrolment_code_is_refused_and_enrols_nothing(client, partner_user):
    _log_in(client, partner_user.email)
    client.get(reverse("mfa_setup"))

    response = client.post(reverse("mfa_setup"), {"token": "000000"})

    assert "That code is not valid" in response.text
    assert not TOTPDevice.objects.filter(user=partner_user, confirmed=True).exists()
    assert client.get(reverse("advisories:list")).status_code == 302


@pytest.fixture
def enrolled_user(partner_user):
    device = TOTPDevice.objects.create(user=partner_user, name="Phone", confirmed=True)
    static = partner_user.staticdevice_set.create(name="Recovery codes")
    static.token_set.create(token="recover1")
    return partner_user, device


@pytest.mark.django_db
def test_later_logins_ask_for_the_current_code(client, enrolled_user):
    user, device = enrolled_user
    _log_in(client, user.email)
    assert client.get(reverse("advisories:list"))["Location"].startswith(reverse("mfa_verify"))

    response = client.post(reverse("mfa_verify"), {"token": _current_code(device), "next": "/portal/"})

    assert response["Location"] == "/portal/"
    assert client.get(reverse("advisories:list")).status_code == 200


@pytest.mark.django_db
def test_a_recovery_code_works_once(client, enrolled_user):
    user, _ = enrolled_user
    _log_in(client, user.email)
    assert client.post(reverse("mfa_verify"), {"token": "recover1"}).status_code == 302
    client.post(reverse("logout"))

    _log_in(client, user.email)
    response = client.post(reverse("mfa_verify"), {"token": "recover1"})

    assert "not valid, or has been used already" in response.text
    assert not StaticToken.objects.filter(token="recover1").exists()


@pytest.mark.django_db
def test_an_unsafe_next_address_after_verification_is_ignored(client, enrolled_user):
    user, device = enrolled_user
    _log_in(client, user.email)

    response = client.post(reverse("mfa_verify"), {"token": _current_code(device), "next": "https://evil.example/"})

    assert response["Location"] == reverse("home")


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_out_even_for_the_right_password(client, partner_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, partner_user.email, password="wrong password")

    response = _log_in(client, partner_user.email)

    assert response.status_code == 429
    assert "Too many failed attempts" in response.text
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_password_reset_answers_the_same_whether_or_not_the_account_exists(client, partner_user):
    known = client.post(reverse("password_reset"), {"email": partner_user.email})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@nowhere.test"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")
    assert [message.to for message in mail.outbox] == [[partner_user.email]]


@pytest.mark.django_db
def test_a_session_ends_after_the_idle_timeout(client, partner_user):
    client.force_login(partner_user)
    assert client.get(reverse("advisories:list")).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)):
        response = client.get(reverse("advisories:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_new_passwords_are_hashed_with_argon2_outside_tests():
    from config.settings import base

    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        assert identify_hasher(make_password("a long passphrase")).algorithm == "argon2"


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy_and_security_headers(client):
    response = client.get(reverse("login"))

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_template_contains_inline_script_or_event_handlers():
    offenders = []
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(str(template))
    assert offenders == []


def test_production_settings_pass_the_deployment_checks():
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "a" * 20 + "production-like-secret-key-with-enough-entropy-9f8e7d6c5b4a",
        "DATABASE_URL": "postgres://forewarn@127.0.0.1:5432/forewarn",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "DJANGO_ALLOWED_HOSTS": "forewarn.example.com",
        "FOREWARN_AUDIT_CHAIN_KEY": "a-production-audit-chain-key-with-enough-entropy",
        "FOREWARN_AUDIT_CHECKPOINT_SIGNING_KEY": "cHJvZHVjdGlvbi1jaGVja3BvaW50LXNpZ25pbmdrZXk=",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_no_staff_page_shows_anyones_second_factor_secret():
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice

    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)
