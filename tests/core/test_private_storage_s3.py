"""Private files on S3-compatible object storage (moto stands in for the store): objects are private, no URL is
ever made, readiness checks the bucket, and partners download through the authorised view as with local files."""

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.urls import reverse
from moto import mock_aws

from advisories import services
from advisories.models import Artifact
from core import health
from core.levels import AccessLevel
from core.object_storage import PrivateS3Storage
from tests.factories import ArtifactFactory, WaveFactory, acknowledge_handling_for_every_member

BUCKET = "forewarn-private"
REGION = "us-east-1"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
POC_CONTENT = b"print('poc kept in the bucket')\n"


@pytest.fixture
def s3(settings, monkeypatch):
    """A private S3 bucket as the `private` storage (and as the Artifact file field's storage, which Django fixes
    when the model is imported)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = {
            **settings.STORAGES,
            "private": {
                "BACKEND": "core.object_storage.PrivateS3Storage",
                "OPTIONS": {"bucket_name": BUCKET, "location": "private", "region_name": REGION},
            },
        }
        monkeypatch.setattr(Artifact._meta.get_field("file"), "storage", storages["private"])
        # moto is slow to answer its first requests on a busy machine; the readiness deadline is tested in
        # tests/core/test_health.py, and a check outliving the mock would reach the real AWS.
        monkeypatch.setattr(health, "READINESS_TIMEOUT_SECONDS", 30)
        yield client


def test_private_bucket_storage_refuses_to_give_a_url():
    storage = PrivateS3Storage(bucket_name=BUCKET)

    with pytest.raises(NotImplementedError, match="Private files have no URL"):
        storage.url("artifacts/FWN-2026-0001/poc.py")


def test_private_bucket_storage_stays_private_when_options_ask_for_public_objects():
    storage = PrivateS3Storage(bucket_name=BUCKET, default_acl="public-read", querystring_auth=False)

    assert storage.default_acl == "private"
    assert storage.querystring_auth is True
    assert storage.file_overwrite is False


def test_stored_objects_are_private_and_never_overwritten(s3):
    storage = storages["private"]

    first = storage.save("artifacts/FWN-2026-0001/poc.py", ContentFile(POC_CONTENT))
    second = storage.save("artifacts/FWN-2026-0001/poc.py", ContentFile(b"other"))

    assert first != second
    grants = s3.get_object_acl(Bucket=BUCKET, Key=f"private/{first}")["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"].get("URI") != ALL_USERS for grant in grants)


@pytest.mark.django_db
def test_readyz_answers_ok_when_the_bucket_answers(s3, client):
    response = client.get(reverse("readyz"))

    assert response.status_code == 200
    assert response.json()["checks"]["storage"] == "ok"


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_storage_when_the_bucket_is_missing(s3, client):
    s3.delete_bucket(Bucket=BUCKET)

    response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "clock": "ok",
        "broker": "ok",
        "cache": "ok",
        "storage": "failed",
    }


@pytest.mark.django_db
def test_partner_downloads_an_artifact_from_the_bucket_through_the_authorised_view(s3, client, make_partner, member_of):
    analyst = member_of(make_partner(level=AccessLevel.EARLY))
    poc = ArtifactFactory(level=AccessLevel.EARLY, name="PoC", content=POC_CONTENT, filename="poc.py")
    WaveFactory(advisory=poc.advisory, level=AccessLevel.EARLY)
    services.release_due_waves()
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1
    acknowledge_handling_for_every_member(poc.advisory)
    client.force_login(analyst)

    response = client.get(reverse("advisories:artifact", args=[poc.advisory.identifier, poc.pk]))

    assert response.status_code == 200
    assert response.streaming
    assert POC_CONTENT in b"".join(response.streaming_content)
