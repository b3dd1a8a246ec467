from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from advisories import services
from partners import services as partner_services
from partners.models import MemberRole
from tests.factories import WaveFactory


def release(advisory, level):
    WaveFactory(advisory=advisory, level=level, scheduled_at=timezone.now())
    services.release_due_waves()


@pytest.fixture
def make_token(member_of):
    """A token created through the service by a partner admin of `partner` (a new one unless `admin` is given).
    Returns (token, secret)."""

    def make(partner, *, admin=None, name="Content pipeline", lifetime=timedelta(days=90)):
        admin = admin or member_of(partner, role=MemberRole.ADMIN)
        return partner_services.create_api_token(actor=admin, name=name, expires_at=timezone.now() + lifetime)

    return make


@pytest.fixture
def api_client_for():
    def make(secret, keyword="Bearer"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
        return client

    return make


@pytest.fixture
def early_token(make_token, early_partner):
    return make_token(early_partner)


@pytest.fixture
def early_api(api_client_for, early_token):
    return api_client_for(early_token[1])
