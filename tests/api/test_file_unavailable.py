"""A file gone from the store answers 503 through the API too, before any byte, with no download recorded."""

import pytest
from django.urls import reverse

from advisories.models import DownloadEvent
from core.levels import AccessLevel
from tests.api.conftest import release
from tests.factories import ArtifactFactory, acknowledge_handling_for_every_member

pytestmark = pytest.mark.django_db


def test_api_download_of_a_missing_file_answers_503_and_records_nothing(
    advisory, early_partner, early_token, api_client_for
):
    artifact = ArtifactFactory(advisory=advisory, level=AccessLevel.EARLY, content=b"print(1)\n", filename="poc.py")
    release(advisory, AccessLevel.EARLY)
    acknowledge_handling_for_every_member(advisory)
    artifact.file.storage.delete(artifact.file.name)
    _, secret = early_token

    response = api_client_for(secret).get(reverse("api:artifact", args=[advisory.identifier, artifact.pk]))

    assert response.status_code == 503
    assert response.json()["detail"].startswith("This file cannot be served at the moment")
    assert not DownloadEvent.objects.exists()
