import pytest

from core.levels import AccessLevel
from tests.factories import AdvisoryFactory, ArtifactFactory, DocumentFactory


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
