import pytest

from core.levels import AccessLevel
from partners.models import MemberRole


@pytest.fixture
def partner(make_partner):
    """An early partner holding the NDA and the PoC addendum."""
    return make_partner(level=AccessLevel.EARLY, legal_name="Northwind Security Ltd")


@pytest.fixture
def partner_admin(partner, member_of):
    return member_of(partner, role=MemberRole.ADMIN)


@pytest.fixture
def partner_analyst(partner, member_of):
    return member_of(partner, role=MemberRole.ANALYST)


@pytest.fixture
def admin_client(client, partner_admin):
    client.force_login(partner_admin)
    return client
