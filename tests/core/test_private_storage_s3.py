"""The S3 storage for private files keeps every object private and never hands out a URL, whatever its options."""

import pytest

from core.object_storage import PrivateS3Storage


def test_private_bucket_storage_refuses_to_give_a_url():
    storage = PrivateS3Storage(bucket_name="forewarn-private")

    with pytest.raises(NotImplementedError):
        storage.url("artifacts/FWN-2026-0001/poc.py")


def test_private_bucket_storage_stays_private_when_options_ask_for_public_objects():
    storage = PrivateS3Storage(bucket_name="forewarn-private", default_acl="public-read", querystring_auth=False)

    assert storage.default_acl == "private"
    assert storage.querystring_auth is True
    assert storage.file_overwrite is False
