"""Need-to-know among staff (docs/design.md): the one place that decides who sees an advisory's title and content.

Until an advisory has been released to partners, its title and content (documents, files, CVE ids, products) are
for its assigned program managers only (the `edit_advisory` object permission; a superuser always), and for
compliance officers on the pages that say so (leak investigations, distribution reports). Once released (released,
public, or withdrawn after a release) every program manager and compliance officer may read them. Everyone else on
staff learns that the advisory exists — its identifier, status and dates — and nothing more.

`visible_advisories` states the rule once, as a queryset; every other function here (one object, many objects, an
annotated list, audit events about advisories) is built on it. Pages, the admin, CSV exports, the dashboard and
the calendar use these functions and nothing else.
"""

from django.apps import apps
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Cast

from advisories.models import Advisory, AdvisoryStatus, AdvisoryUserObjectPermission, ReleaseWave, WaveStatus
from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS, staff_roles

EDIT_PERMISSION = "edit_advisory"
RESTRICTED = "restricted: need-to-know"


def _released_to_partners() -> Q:
    """Released: a wave of it went out (withdrawn before any release does not count)."""
    ever_released = Exists(ReleaseWave.objects.filter(advisory=OuterRef("pk"), status=WaveStatus.RELEASED))
    return Q(status__in=(AdvisoryStatus.RELEASED, AdvisoryStatus.PUBLIC)) | (
        Q(status=AdvisoryStatus.WITHDRAWN) & Q(ever_released)
    )


def _assigned_to(user) -> Exists:
    return Exists(
        AdvisoryUserObjectPermission.objects.filter(
            content_object=OuterRef("pk"), user_id=user.pk, permission__codename=EDIT_PERMISSION
        )
    )


def visible_advisories(user, *, compliance_officers: bool = False) -> QuerySet[Advisory]:
    """The advisories whose title and content `user` may see. `compliance_officers=True` on the pages where
    compliance officers see every advisory (their investigations)."""
    roles = staff_roles(user)
    if user.is_superuser and roles:
        return Advisory.objects.all()
    if compliance_officers and COMPLIANCE_OFFICERS in roles:
        return Advisory.objects.all()
    if PROGRAM_MANAGERS in roles:
        return Advisory.objects.filter(_released_to_partners() | Q(_assigned_to(user)))
    if COMPLIANCE_OFFICERS in roles:
        return Advisory.objects.filter(_released_to_partners())
    return Advisory.objects.none()


def can_view_content(user, advisory: Advisory, *, compliance_officers: bool = False) -> bool:
    """Whether `user` may see this advisory's title and content."""
    return visible_advisories(user, compliance_officers=compliance_officers).filter(pk=advisory.pk).exists()


def visible_advisory_ids(user, advisories, *, compliance_officers: bool = False) -> set[int]:
    """Of these advisories (objects or ids), the ids of those whose content `user` may see, in one query."""
    ids = {getattr(advisory, "pk", advisory) for advisory in advisories}
    if not ids:
        return set()
    visible = visible_advisories(user, compliance_officers=compliance_officers).filter(pk__in=ids)
    return set(visible.values_list("pk", flat=True))


def with_content_visible(queryset: QuerySet[Advisory], user, *, compliance_officers: bool = False):
    """The advisories annotated with `content_visible` for `user`."""
    visible = visible_advisories(user, compliance_officers=compliance_officers)
    return queryset.annotate(content_visible=Exists(visible.filter(pk=OuterRef("pk"))))


def assigned_advisories(user) -> QuerySet[Advisory]:
    """The advisories `user` is an assigned program manager of (every one for a superuser): those whose services
    (change, documents, files, release plan, cohorts, withdrawal, assigning colleagues) they may run."""
    roles = staff_roles(user)
    if PROGRAM_MANAGERS not in roles:
        return Advisory.objects.none()
    if user.is_superuser:
        return Advisory.objects.all()
    return Advisory.objects.filter(_assigned_to(user))


def is_assigned_manager(user, advisory: Advisory) -> bool:
    """Whether `user` is an assigned program manager of the advisory (`assigned_advisories`)."""
    return assigned_advisories(user).filter(pk=advisory.pk).exists()


def advisory_label(advisory: Advisory, *, visible: bool) -> str:
    """How an advisory is named to staff: its identifier and title, or its identifier alone."""
    return f"{advisory.identifier} {advisory.title}" if visible else f"{advisory.identifier} ({RESTRICTED})"


# Audit events about advisories -------------------------------------------------------------------------------------


def _advisory_path(model) -> str | None:
    """How to reach the advisory from a model of the advisories app, if it belongs to one."""
    if model is Advisory:
        return "pk"
    names = {field.name for field in model._meta.get_fields()}
    for relation, path in (
        ("advisory", "advisory_id"),
        ("wave", "wave__advisory_id"),
        ("incident", "incident__advisory_id"),
    ):
        if relation in names:
            return path
    return None


def _concerned_advisory():
    """For an audit event, the id of the advisory its target belongs to (None for other targets)."""
    whens = []
    for model in apps.get_app_config("advisories").get_models():
        path = _advisory_path(model)
        if path is None:
            continue
        advisory_id = model.objects.filter(pk=Cast(OuterRef("target_id"), BigIntegerField())).values(path)[:1]
        whens.append(When(target_type=model._meta.label, then=Subquery(advisory_id)))
    return Case(*whens, default=None, output_field=BigIntegerField())


def audit_events_with_visibility(queryset, user):
    """Audit events annotated with `concerned_advisory_id` (the advisory their target belongs to, if any) and
    `content_visible` (False when `user` may not see that advisory: show its identifier, not the event's label or
    details, which may name the title)."""
    visible = visible_advisories(user)
    identifier = Advisory.objects.filter(pk=OuterRef("concerned_advisory_id")).values("identifier")[:1]
    return queryset.annotate(concerned_advisory_id=_concerned_advisory()).annotate(
        concerned_advisory_identifier=Subquery(identifier),
        content_visible=ExpressionWrapper(
            Q(concerned_advisory_id__isnull=True) | Exists(visible.filter(pk=OuterRef("concerned_advisory_id"))),
            output_field=BooleanField(),
        ),
    )


def audit_target_label(event) -> str:
    """The event's target as the viewer may see it (`event` annotated by `audit_events_with_visibility`)."""
    if event.content_visible:
        return event.target_label
    return f"{event.target_type.split('.')[-1]} of {event.concerned_advisory_identifier} ({RESTRICTED})"
