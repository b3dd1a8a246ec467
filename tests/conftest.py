from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.levels import AccessLevel
from partners.models import DUE_DILIGENCE_CHECKLIST
from tests.factories import (
    AdvisoryFactory,
    AgreementFactory,
    ArtifactFactory,
    ComplianceOfficerFactory,
    ContractVersionFactory,
    DocumentFactory,
    MembershipFactory,
    PartnerApplicationFactory,
    PartnerDomainFactory,
    PartnerFactory,
    ProgramManagerFactory,
    UserFactory,
)

TESTS_ROOT = Path(__file__).resolve().parent
# Under pytest-xdist (`make test` runs two workers), tests that share something outside their worker's test database
# run in one worker, one after another: the integration and bench tests share the Redis test databases, the private
# Redis port and the subprocesses' ports; the browser tests share one Chromium.
XDIST_GROUPS = {"integration": "services", "bench": "services", "e2e": "browser"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = item.path.relative_to(TESTS_ROOT).parts[0]
        if folder in XDIST_GROUPS:
            item.add_marker(pytest.mark.xdist_group(XDIST_GROUPS[folder]))


@pytest.fixture(autouse=True)
def force_login_passes_the_second_factor(monkeypatch):
    """`client.force_login(user)` in tests stands for a complete login: password and second factor. The login and
    MFA flows themselves are tested through the real pages in tests/core/test_accounts.py."""
    original_force_login = Client.force_login

    def force_login(self, user, backend=None):
        original_force_login(self, user, backend)
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="Test authenticator", defaults={"confirmed": True})
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def empty_cache():
    """Throttle and rate-limit counters live in the cache: every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def roles(db):
    call_command("sync_roles", verbosity=0)


@pytest.fixture
def manager(db):
    return ProgramManagerFactory(email="manager@example.test")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def compliance_officer(db):
    return ComplianceOfficerFactory(email="officer@example.test")


@pytest.fixture
def officer_client(client, compliance_officer):
    client.force_login(compliance_officer)
    return client


@pytest.fixture
def nda(db):
    return ContractVersionFactory(contract_key="nda", required_from_level=AccessLevel.GENERIC)


@pytest.fixture
def poc_addendum(db):
    return ContractVersionFactory(
        contract_key="poc-addendum", title="PoC handling addendum", required_from_level=AccessLevel.EARLY
    )


@pytest.fixture
def make_partner(db, nda, poc_addendum):
    """A partner at `level` holding the agreements that level needs (or those named in `contracts`)."""

    def make(*, level=AccessLevel.EARLY, country="US", contracts=None, **fields):
        partner = PartnerFactory(assigned_level=level, country=country, **fields)
        signed = contracts if contracts is not None else [nda, poc_addendum]
        for version in signed:
            AgreementFactory(partner=partner, contract_version=version)
        return partner

    return make


@pytest.fixture
def member_of(db):
    def make(partner, **fields):
        return MembershipFactory(partner=partner, **fields).user

    return make


@pytest.fixture
def advisory(db):
    """A scheduled advisory with a generic and a standard description, a standard rule and an early PoC."""
    advisory = AdvisoryFactory()
    DocumentFactory(advisory=advisory, level=AccessLevel.GENERIC, body_markdown="Generic summary of the flaw.")
    DocumentFactory(advisory=advisory, level=AccessLevel.STANDARD, body_markdown="Standard **technical** details.")
    ArtifactFactory(advisory=advisory, level=AccessLevel.STANDARD, name="Detection rule")
    ArtifactFactory(
        advisory=advisory,
        level=AccessLevel.EARLY,
        name="Proof of concept",
        content=b"print('proof of concept')\n",
        filename="poc.py",
    )
    return advisory


@pytest.fixture
def early_partner(make_partner):
    return make_partner(level=AccessLevel.EARLY)


@pytest.fixture
def early_client(client, early_partner, member_of):
    client.force_login(member_of(early_partner))
    return client


@pytest.fixture
def partner_user(make_partner, member_of):
    return member_of(make_partner(), user=UserFactory(email="analyst@northwind.test"))


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


@pytest.fixture
def application_under_review(db, manager):
    """An application under review whose due-diligence checklist is complete."""
    return PartnerApplicationFactory(
        status="under_review",
        reviewer=manager,
        checklist={key: {"by": manager.email, "at": "2026-01-01T00:00:00+00:00"} for key in DUE_DILIGENCE_CHECKLIST},
    )


@pytest.fixture
def hours_from_now():
    start = timezone.now().replace(second=0, microsecond=0)

    def at(hours):
        return start + timedelta(hours=hours)

    return at
