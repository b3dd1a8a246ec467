"""Partner access to released objects: the entitlement rule (`compliance.entitlements`) combined with the object
permissions a wave grants to the organisation's Group. Views, the API and the services call these and never check
access themselves."""

from datetime import datetime

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Subquery
from django.http import Http404
from guardian.utils import get_group_obj_perms_model

from compliance.entitlements import PartnerAccess, effective_levels
from core.clock import embargo_now
from core.levels import AccessLevel
from partners.models import Partner


def release_permission_codename(model: type[models.Model]) -> str:
    """The object permission a partner's Group receives on each object of `model` released to it."""
    return f"receive_{model._meta.model_name}"


def object_level(obj: models.Model) -> AccessLevel:
    """The level an object requires: its `level` field, or generic for objects without one (the advisory)."""
    return AccessLevel(getattr(obj, "level", AccessLevel.GENERIC))


def released_objects(queryset: models.QuerySet, access: PartnerAccess | None) -> models.QuerySet:
    """Narrow `queryset` to the objects released to the organisation (object permission on its Group) whose
    level its effective level reaches."""
    if access is None or access.level == AccessLevel.NONE:
        return queryset.none()
    return released_to_group(queryset, group_id=access.partner.group_id, level=access.level)


def released_to_group(queryset: models.QuerySet, *, group_id: int, level: int) -> models.QuerySet:
    """`released_objects` for the organisation of Group `group_id` at effective `level` (not none): for queries
    compiled once and run with each organisation's values (`core.compiled_queries`)."""
    model = queryset.model
    permission_model = get_group_obj_perms_model(model)
    # The permission as a scalar subquery, not a join: PostgreSQL then estimates the granted rows well and reads
    # a large organisation's list in index order (bench/pages.py).
    permission = Permission.objects.filter(
        codename=release_permission_codename(model), content_type=ContentType.objects.get_for_model(model)
    ).values("pk")
    granted = permission_model.objects.filter(group_id=group_id, permission_id=Subquery(permission)).values(
        "content_object"
    )
    queryset = queryset.filter(pk__in=granted)
    if any(field.name == "level" for field in model._meta.concrete_fields):
        queryset = queryset.filter(level__lte=level)
    return queryset


def get_released_object_or_404(queryset: models.QuerySet, access: PartnerAccess | None, **lookup) -> models.Model:
    """The one object matching `lookup` if the organisation may see it; 404 otherwise, so that a partner cannot
    tell a forbidden object from one that does not exist."""
    obj = released_objects(queryset, access).filter(**lookup).first()
    if obj is None:
        raise Http404("No such advisory or file.")
    return obj


def partners_holding(obj: models.Model, at: datetime | None = None) -> dict[int, AccessLevel]:
    """The organisations that may see `obj` at `at` (default now), with their effective levels: the reverse of
    `released_objects`, the same rule (release permission on the organisation's Group, effective level at least
    the object's). A fixed number of queries whatever the number of organisations."""
    at = at or embargo_now()
    model = type(obj)
    granted_groups = (
        get_group_obj_perms_model(model)
        .objects.filter(
            content_object=obj,
            permission__codename=release_permission_codename(model),
            permission__content_type=ContentType.objects.get_for_model(model),
        )
        .values("group_id")
    )
    needed = object_level(obj)
    levels = effective_levels(Partner.objects.filter(group_id__in=granted_groups), at)
    return {pk: level for pk, level in levels.items() if level != AccessLevel.NONE and level >= needed}
