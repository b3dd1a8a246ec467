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


@pytest.fixture
def substantiated(partner, compliance_officer):
    """A substantiated leak by `partner`: ready for enforcement."""
    from compliance import services

    violation = services.report_violation(
        actor=compliance_officer, partner=partner, kind="leak", severity="high", summary="PoC leaked on a forum"
    )
    services.start_investigation(violation=violation, actor=compliance_officer, note="Checking the sample")
    return services.substantiate_violation(violation=violation, actor=compliance_officer, note="Fingerprint matches")
