import pytest

from advisories.sample_texts import MAIL_SERVER
from core.levels import AccessLevel
from tests.factories import AdvisoryFactory, ComplianceOfficerFactory, DocumentFactory


@pytest.fixture
def compliance_officer(db):
    return ComplianceOfficerFactory(email="officer@example.test")


@pytest.fixture
def long_advisory(db):
    """A scheduled advisory whose standard description is a realistic, full-length technical text."""
    advisory = AdvisoryFactory()
    DocumentFactory(advisory=advisory, level=AccessLevel.STANDARD, title="Technical details", body_markdown=MAIL_SERVER)
    return advisory
