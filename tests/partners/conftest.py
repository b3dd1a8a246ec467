from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.management import call_command

from core.levels import AccessLevel
from partners.models import DUE_DILIGENCE_CHECKLIST
from tests.factories import MembershipFactory, PartnerApplicationFactory, PartnerDomainFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def roles(db):
    call_command("sync_roles", verbosity=0)


@pytest.fixture
def compliance_officer(db):
    from django.contrib.auth.models import Group

    from core.roles import COMPLIANCE_OFFICERS

    user = UserFactory(email="officer@example.test", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=COMPLIANCE_OFFICERS)[0])
    return user


@pytest.fixture
def application_under_review(db, manager):
    """An application under review whose due-diligence checklist is complete."""
    return PartnerApplicationFactory(
        status="under_review",
        reviewer=manager,
        checklist={key: {"by": manager.email, "at": "2026-01-01T00:00:00+00:00"} for key in DUE_DILIGENCE_CHECKLIST},
    )


@pytest.fixture
def team(db, make_partner):
    """An active early partner on kestrel.test with one admin and one analyst."""

    partner = make_partner(level=AccessLevel.EARLY, legal_name="Kestrel IDS Ltd")
    PartnerDomainFactory(partner=partner, domain="kestrel.test")
    return SimpleNamespace(
        partner=partner,
        admin=MembershipFactory(partner=partner, role="admin", user=UserFactory(email="admin@kestrel.test")).user,
        analyst=MembershipFactory(partner=partner, user=UserFactory(email="analyst@kestrel.test")).user,
    )
