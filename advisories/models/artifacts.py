"""An advisory's files for partners, in private storage."""

from django.db import models

from advisories.models.advisory import Advisory
from core.levels import AccessLevel
from core.storage import private_storage

ARTIFACT_LEVELS = [(AccessLevel.STANDARD.value, "standard"), (AccessLevel.EARLY.value, "early")]


def artifact_upload_path(artifact, filename):
    return f"artifacts/{artifact.advisory.identifier}/{filename}"


class Artifact(models.Model):
    """A file for partners: detection rules, IOCs (standard) or proof-of-concept code (early). Kept in private
    storage and served only by an authorised view."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="artifacts")
    level = models.PositiveSmallIntegerField(choices=ARTIFACT_LEVELS)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    file = models.FileField(storage=private_storage, upload_to=artifact_upload_path)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveBigIntegerField(editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["level", "name"]
        permissions = [("receive_artifact", "Released to the holder through a release wave")]

    def __str__(self):
        return f"{self.advisory.identifier} {self.name}"
