"""Every demo persona logs in for real (password, then the authenticator's current code) twice, and opens every page
its navigation and its landing page link to: no server error, on the first visit or a later one (a landing page
that compares with the previous visit once answered 500 to every organisation without access)."""

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisories.management.commands.seed_demo import DEMO_PASSWORD

NAVIGATION = re.compile(r'<nav class="mainnav".*?</nav>', re.S)
LINK = re.compile(r'<a [^>]*href="(/[^"#]*)"')
# Leaving the session or the site: not pages of the persona's navigation.
NOT_PAGES = ("/logout/", "/static/", "/media/")


def _current_code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _log_in(client, user):
    response = client.post(reverse("login"), {"username": user.email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, (user.email, response.status_code)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    response = client.post(reverse("mfa_verify"), {"token": _current_code(device), "next": reverse("home")})
    assert response.status_code == 302, (user.email, "second factor refused")
    return client.get(reverse("home"), follow=True)


def _links(html: str) -> list[str]:
    navigation = NAVIGATION.search(html)
    found = LINK.findall(navigation.group(0)) if navigation else []
    found += LINK.findall(html)  # the landing page's own links (cards, next steps)
    return sorted({link for link in found if not link.startswith(NOT_PAGES) and urlsplit(link).path})


@pytest.mark.django_db
def test_every_demo_persona_opens_every_page_of_its_navigation_twice_without_a_server_error():
    call_command("seed_demo", stdout=io.StringIO())
    personas = list(get_user_model().objects.filter(totpdevice__confirmed=True).order_by("email").distinct())
    assert len(personas) >= 20  # two staff roles and two members of each demo organisation

    server_errors, opened = {}, 0
    start = timezone.now()
    for visit in range(2):
        # A new time step for each round of logins: a one-time code is never accepted twice.
        with time_machine.travel(start + timedelta(minutes=2 * visit + 1)):
            for user in personas:
                client = Client()
                landing = _log_in(client, user)
                if landing.status_code >= 500:
                    server_errors[(visit, user.email, "landing")] = landing.status_code
                    continue
                for link in _links(landing.content.decode()):
                    status = client.get(link, follow=True).status_code
                    opened += 1
                    if status >= 500:
                        server_errors[(visit, user.email, link)] = status

    assert server_errors == {}
    assert opened > 4 * len(personas)
