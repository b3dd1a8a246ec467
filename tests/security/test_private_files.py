"""No stored artifact is reachable through a static or media URL: the only way out is the authorised view."""

import pytest
from django.conf import settings

from core.levels import AccessLevel
from tests.factories import ArtifactFactory


@pytest.mark.django_db
def test_private_files_are_outside_every_static_folder():
    private = str(settings.PRIVATE_MEDIA_ROOT)
    static_folders = [str(folder) for folder in settings.STATICFILES_DIRS] + [str(settings.STATIC_ROOT)]

    assert not any(private.startswith(folder) or folder.startswith(private) for folder in static_folders)
    assert settings.MEDIA_URL in ("", "/")  # no media URL is mounted at all


@pytest.mark.django_db
def test_a_stored_artifact_cannot_be_fetched_by_any_guessable_url(client, make_partner, member_of):
    artifact = ArtifactFactory(level=AccessLevel.STANDARD, content=b"secret detection rule\n", filename="rule.yar")
    client.force_login(member_of(make_partner()))
    name = artifact.file.name

    for url in (
        f"/media/{name}",
        f"/static/{name}",
        f"/{name}",
        f"/static/../{name}",
        f"/static/%2e%2e/var/media/private/{name}",
        f"/portal/{name}",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"secret detection rule" not in b"".join(getattr(response, "streaming_content", [response.content]))
