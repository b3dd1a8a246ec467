import pytest

from advisories.sample_texts import AUTHORED_DOCUMENTS
from core.levels import AccessLevel
from tests.factories import AdvisoryFactory, DocumentFactory


@pytest.fixture
def long_advisory(db):
    """A scheduled advisory whose standard description is a realistic, full-length technical text, with the
    variant points an author adds to it (docs/fingerprinting.md)."""
    advisory = AdvisoryFactory()
    DocumentFactory(
        advisory=advisory, level=AccessLevel.STANDARD, title="Technical details", body_markdown=AUTHORED_DOCUMENTS[0]
    )
    return advisory
