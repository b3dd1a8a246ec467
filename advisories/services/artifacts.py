"""An advisory's files: stored with their recognised type, size and sha256; opened by staff as stored."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from advisories import selectors
from advisories.models import Advisory, Artifact
from advisories.services.authoring import content_is_frozen, require_assigned_manager
from advisories.validators import SNIFF_BYTES, sniff_artifact_content_type
from core.levels import AccessLevel
from core.services import record_audit_event
from core.uploads import inspect_upload

logger = logging.getLogger(__name__)


STORAGE_FAILED_MESSAGE = (
    "The file could not be stored: the file store is full or not writable. Nothing was saved; try again later, "
    "and tell the operators if it persists."
)


def store_artifact(*, actor, artifact: Artifact, uploaded_file) -> Artifact:
    """Save an artifact file to private storage with its size and sha256, its content type recognised from its
    first bytes (never the name or the browser's claim). Refuses files over the size limit and any type other than
    text, ZIP or PDF (executables, HTML). Refuses anyone but the advisory's assigned managers."""
    require_assigned_manager(actor, artifact.advisory)
    upload = inspect_upload(
        uploaded_file,
        max_bytes=settings.ARTIFACT_MAX_BYTES,
        too_large=f"Files may be at most {settings.ARTIFACT_MAX_BYTES // (1024 * 1024)} MiB.",
        sniff_bytes=SNIFF_BYTES,
        content_type_of=sniff_artifact_content_type,
    )
    with transaction.atomic():
        artifact.sha256 = upload.sha256
        artifact.size = upload.size
        artifact.content_type = upload.content_type
        try:
            artifact.file.save(uploaded_file.name, uploaded_file, save=False)
        except OSError:
            # A full or read-only store: the storage removed any partial file; no row is written.
            logger.exception("Could not store artifact file %s for %s", uploaded_file.name, artifact.advisory)
            raise ValidationError({"file": STORAGE_FAILED_MESSAGE}) from None
        artifact.save()
        record_audit_event(
            actor=actor,
            action="artifact.stored",
            target=artifact,
            details={"sha256": artifact.sha256, "size": artifact.size, "content_type": upload.content_type},
        )
    return artifact


def add_artifact(*, actor, advisory: Advisory, level: int, name: str, description: str, uploaded_file) -> Artifact:
    """Upload a file for partners of `level` (standard or early). Its type is recognised from its content (text,
    ZIP or PDF; never executables or HTML), its size limited, its sha256 recorded; refused once a wave carrying
    that level has released."""
    require_assigned_manager(actor, advisory)
    if level not in (AccessLevel.STANDARD, AccessLevel.EARLY):
        raise ValidationError({"level": "Files are standard or early."})
    if content_is_frozen(advisory, level):
        raise ValidationError("Files of this level have been released (or the advisory withdrawn); add none now.")
    artifact = Artifact(advisory=advisory, level=level, name=name, description=description)
    artifact.full_clean(exclude=["file", "size", "sha256"])
    return store_artifact(actor=actor, artifact=artifact, uploaded_file=uploaded_file)


def open_artifact_for_staff(*, actor, artifact: Artifact):
    """A program manager who may read the advisory (need-to-know) downloads one of its files as stored, without
    personalisation: the file stays inside the program. Audited; refuses everyone else."""
    if not selectors.can_view_content(actor, artifact.advisory):
        raise PermissionDenied("Only the advisory's assigned managers open its files before release.")
    with transaction.atomic():
        record_audit_event(
            actor=actor,
            action="artifact.downloaded_by_staff",
            target=artifact,
            details={"advisory": artifact.advisory.identifier, "sha256": artifact.sha256},
        )
    return artifact.file.open("rb")
