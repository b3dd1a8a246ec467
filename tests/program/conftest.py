import pytest

from core.levels import AccessLevel
from partners.models import PartnerStatus
from tests.factories import JurisdictionPolicyFactory, LevelCapFactory, ProgramManagerFactory, UserFactory

CRITICAL_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


@pytest.fixture
def other_manager(db):
    return ProgramManagerFactory(email="other.manager@example.test")


@pytest.fixture
def cohort(make_partner, nda, member_of):
    """One partner per situation the release preview must explain, each with one member."""
    partners = {
        "early": make_partner(level=AccessLevel.EARLY, legal_name="Northwind Security"),
        "standard": make_partner(level=AccessLevel.STANDARD, legal_name="Kestrel Labs"),
        "generic": make_partner(level=AccessLevel.GENERIC, legal_name="Harbor AV"),
        "capped": make_partner(level=AccessLevel.EARLY, country="CN", legal_name="Dragon Defence"),
        "suspended": make_partner(level=AccessLevel.EARLY, status=PartnerStatus.SUSPENDED, legal_name="Quiet Co"),
        "unsigned": make_partner(level=AccessLevel.EARLY, contracts=[], legal_name="Unsigned Inc"),
        "enforced": make_partner(level=AccessLevel.EARLY, legal_name="Capped By Enforcement"),
    }
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC)
    LevelCapFactory(partner=partners["enforced"], cap_level=AccessLevel.STANDARD)
    for kind, partner in partners.items():
        member_of(partner, user=UserFactory(email=f"analyst@{kind}.test"))
    return partners


def as_input(moment):
    """A time as the datetime-local field sends it (UTC)."""
    return moment.strftime("%Y-%m-%dT%H:%M")
