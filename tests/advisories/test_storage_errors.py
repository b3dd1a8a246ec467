"""Storage errors reach people as clear messages, never as a 500 or a broken download: an upload the store cannot
take (full or read-only) is refused in the form with no partial file and no row, and a file gone from the store
answers 503 before any byte is sent, with no download recorded."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from advisories import services
from advisories.models import Artifact, DownloadEvent
from core.levels import AccessLevel
from core.models import AuditEvent
from core.storage import PrivateFileSystemStorage
from tests.factories import ArtifactFactory, WaveFactory, acknowledge_handling_for_every_member
from tests.storages import WRITTEN_BEFORE_FULL, FullDiskStorage, ReadOnlyDiskStorage

pytestmark = pytest.mark.django_db

UPLOAD = b"print('proof of concept')\n" * 20_000  # about 500 KiB: several chunks


def files_under(folder):
    return [path for path in folder.rglob("*") if path.is_file()]


@pytest.fixture
def artifact_storage(monkeypatch, tmp_path):
    """Put the artifacts' file field on a storage of the test's choice, in an empty folder."""

    def use(storage_class):
        storage = storage_class(location=tmp_path / "private")
        monkeypatch.setattr(Artifact._meta.get_field("file"), "storage", storage)
        return tmp_path / "private"

    return use


def upload(client, advisory):
    return client.post(
        reverse("program_advisories:artifact_upload", args=[advisory.identifier]),
        {"name": "Proof of concept", "level": AccessLevel.EARLY, "file": SimpleUploadedFile("poc.py", UPLOAD)},
    )


@pytest.fixture
def draft(manager):
    return services.create_advisory(actor=manager, title="Draft", public_release_at=timezone.now() + timedelta(days=2))


@pytest.mark.parametrize("storage_class", [FullDiskStorage, ReadOnlyDiskStorage])
def test_upload_to_a_full_or_read_only_store_is_refused_in_the_form_with_nothing_kept(
    client, manager, draft, artifact_storage, storage_class
):
    folder = artifact_storage(storage_class)
    client.force_login(manager)

    response = upload(client, draft)

    assert response.status_code == 200
    assert "The file could not be stored: the file store is full or not writable." in response.text
    assert not folder.exists() or not files_under(folder)
    assert not Artifact.objects.exists()
    assert not AuditEvent.objects.filter(action="artifact.stored").exists()


def test_a_write_that_fills_the_disk_leaves_no_partial_file(tmp_path):
    storage = FullDiskStorage(location=tmp_path)

    with pytest.raises(OSError, match="No space left"):
        storage.save("artifacts/poc.py", SimpleUploadedFile("poc.py", UPLOAD))

    assert len(UPLOAD) > WRITTEN_BEFORE_FULL
    assert not files_under(tmp_path)


def test_a_failed_write_never_removes_a_file_it_did_not_create(tmp_path, monkeypatch):
    storage = PrivateFileSystemStorage(location=tmp_path)
    kept = storage.save("artifacts/poc.py", SimpleUploadedFile("poc.py", b"first"))

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("django.core.files.storage.filesystem.os.open", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        storage._save(kept, SimpleUploadedFile("poc.py", b"second"))

    assert (tmp_path / kept).read_bytes() == b"first"


@pytest.fixture
def released_file(make_partner, member_of, advisory):
    partner = make_partner(level=AccessLevel.EARLY)
    artifact = ArtifactFactory(advisory=advisory, level=AccessLevel.EARLY, content=b"print(1)\n", filename="poc.py")
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    services.release_due_waves()
    member = member_of(partner)
    acknowledge_handling_for_every_member(advisory)
    return artifact, partner, member


def test_download_of_a_missing_file_answers_503_before_any_byte_and_records_nothing(client, released_file):
    artifact, _, member = released_file
    artifact.file.storage.delete(artifact.file.name)
    client.force_login(member)

    response = client.get(reverse("advisories:artifact", args=[artifact.advisory.identifier, artifact.pk]))

    assert response.status_code == 503
    assert not response.streaming
    assert "This file cannot be downloaded at the moment" in response.text
    assert "Nothing was sent and no download was recorded" in response.text
    assert not DownloadEvent.objects.exists()


def test_download_of_a_present_file_still_streams_and_is_recorded(client, released_file):
    artifact, _, member = released_file
    client.force_login(member)

    response = client.get(reverse("advisories:artifact", args=[artifact.advisory.identifier, artifact.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content).endswith(b"print(1)\n")
    assert DownloadEvent.objects.count() == 1
