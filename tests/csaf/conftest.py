from datetime import timedelta

import pytest
from django.utils import timezone

from partners import services as partner_services
from partners.models import MemberRole


@pytest.fixture
def https_portal(settings):
    """The portal's public address is HTTPS, as in production (CSAF requirement 3; the canonical URL test 6.2.11
    and the ROLIE schema require it)."""
    settings.FOREWARN_PORTAL_URL = "https://forewarn.example"
    return settings.FOREWARN_PORTAL_URL


@pytest.fixture
def token_for(member_of):
    """A token created through the service by a (new) partner admin of `partner`: returns its secret."""

    def make(partner, *, admin=None):
        admin = admin or member_of(partner, role=MemberRole.ADMIN)
        return partner_services.create_api_token(
            actor=admin, name="CSAF mirror", expires_at=timezone.now() + timedelta(days=90)
        )[1]

    return make
