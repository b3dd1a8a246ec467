from pathlib import Path

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.levels import AccessLevel
from tests.factories import (
    AdvisoryFactory,
    AgreementFactory,
    ArtifactFactory,
    ContractVersionFactory,
    DocumentFactory,
    MembershipFactory,
    PartnerFactory,
    ProgramManagerFactory,
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


@pytest.fixture
def manager(db):
    return ProgramManagerFactory(email="manager@example.test")


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
