"""Direct foreign-key object permission tables (django-guardian): fast joins and no orphans on pk reuse."""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from advisories.models.advisory import Advisory, AdvisoryDocument
from advisories.models.artifacts import Artifact


class AdvisoryUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Advisory, on_delete=models.CASCADE)


class AdvisoryGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Advisory, on_delete=models.CASCADE)


class AdvisoryDocumentUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(AdvisoryDocument, on_delete=models.CASCADE)


class AdvisoryDocumentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(AdvisoryDocument, on_delete=models.CASCADE)


class ArtifactUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Artifact, on_delete=models.CASCADE)


class ArtifactGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Artifact, on_delete=models.CASCADE)
