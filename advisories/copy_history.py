"""The history of an organisation's copy of an advisory: each moment its copy changed, numbered.

A released advisory's content is frozen (services.content_is_frozen), so an organisation's copy changes only when
it receives a delivery (its first one, or a higher level later: release, cohort, catch-up) and when the advisory
becomes public. These revisions are the CSAF revision history and dates of its copy, the order of its provider
feeds and `changes.csv`, and the events a notification channel (e.g. webhooks) announces: each revision has a
stable `key`, the same however often it is computed, to deliver each change exactly once.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from advisories.models import Advisory, AdvisoryStatus, Delivery, ReleaseWave, WaveStatus
from core.levels import AccessLevel


class RevisionKind:
    DELIVERED = "delivered"
    PUBLIC = "public"
    DELIVERED_AND_PUBLIC = "delivered_and_public"


@dataclass(frozen=True)
class CopyRevision:
    number: int  # 1, 2, ... in time order
    at: datetime
    kind: str  # a RevisionKind
    level: AccessLevel  # the organisation's level of content after this revision
    summary: str
    key: str  # stable: "delivery:<id>", "public:<advisory id>" (or both, joined by "+")


def _summary(kind: str, level: AccessLevel, first: bool) -> str:
    if kind == RevisionKind.PUBLIC:
        return "Public release: the advisory is public and the vendor's fix is available."
    delivered = (
        f"Delivered at the {level.label} level."
        if first
        else f"Raised to the {level.label} level: the content of that level is added."
    )
    if kind == RevisionKind.DELIVERED_AND_PUBLIC:
        return f"{delivered} Public release: the advisory is public and the vendor's fix is available."
    return delivered


def public_release_instants(advisories: Iterable[Advisory]) -> dict[int, datetime]:
    """When each public advisory became public: its generic wave's release (a late run counts, not the plan)."""
    public = [a.pk for a in advisories if a.status == AdvisoryStatus.PUBLIC]
    instants = dict(
        ReleaseWave.objects.filter(
            advisory_id__in=public, level=AccessLevel.GENERIC, status=WaveStatus.RELEASED
        ).values_list("advisory_id", "released_at")
    )
    for advisory in advisories:
        if advisory.pk in public and instants.get(advisory.pk) is None:
            instants[advisory.pk] = advisory.public_release_at
    return instants


def revisions_of(
    *, advisory_id: int, deliveries: Iterable[tuple[int, datetime, int]], public_at: datetime | None
) -> list[CopyRevision]:
    """The revisions of one copy from its deliveries (id, delivered at, level) and the advisory's public release
    instant (None while not public). Events at the same instant are one revision; a public release before the
    organisation's first delivery (it joined later) is part of that first revision."""
    deliveries = sorted(deliveries, key=lambda row: (row[1], row[2]))
    revisions: list[CopyRevision] = []
    level = AccessLevel.NONE
    public_key = f"public:{advisory_id}"
    public_pending = public_at is not None
    for pk, at, delivered_level in deliveries:
        level = AccessLevel(max(level, delivered_level))
        kind, key = RevisionKind.DELIVERED, f"delivery:{pk}"
        if public_pending and public_at <= at:
            kind, key, public_pending = RevisionKind.DELIVERED_AND_PUBLIC, f"{key}+{public_key}", False
        if revisions and revisions[-1].at == at:
            previous = revisions.pop()
            kind = RevisionKind.DELIVERED_AND_PUBLIC if RevisionKind.PUBLIC in previous.kind else kind
            key = f"{previous.key}+{key}"
        number = len(revisions) + 1
        revisions.append(CopyRevision(number, at, kind, level, _summary(kind, level, first=number == 1), key))
    if public_pending and revisions:
        number = len(revisions) + 1
        revisions.append(
            CopyRevision(
                number, public_at, RevisionKind.PUBLIC, level, _summary(RevisionKind.PUBLIC, level, False), public_key
            )
        )
    return revisions


def copy_revisions(*, partner_id: int, advisories: Iterable[Advisory]) -> dict[int, list[CopyRevision]]:
    """The revisions of the organisation's copy of each advisory, by advisory id, in two queries whatever their
    number. An advisory the organisation never received has none."""
    advisories = list(advisories)
    rows = defaultdict(list)
    for pk, advisory_id, at, level in Delivery.objects.filter(
        partner_id=partner_id, advisory_id__in=[a.pk for a in advisories]
    ).values_list("pk", "advisory_id", "delivered_at", "level"):
        rows[advisory_id].append((pk, at, level))
    public = public_release_instants(advisories)
    return {a.pk: revisions_of(advisory_id=a.pk, deliveries=rows[a.pk], public_at=public.get(a.pk)) for a in advisories}


def public_copy_revisions(advisory: Advisory, public_at: datetime) -> list[CopyRevision]:
    """The public copy of a public advisory has one revision: its public release."""
    return [
        CopyRevision(
            1,
            public_at,
            RevisionKind.PUBLIC,
            AccessLevel.GENERIC,
            "Public release: the advisory is public and the vendor's fix is available.",
            f"public:{advisory.pk}",
        )
    ]


def changes_since(*, partner_id: int, since: datetime) -> list[tuple[Advisory, CopyRevision]]:
    """Every revision of the organisation's copies made after `since`, oldest first, with its advisory: what a
    notification channel announces to the organisation (a delivery: release, cohort or catch-up; a public
    release). Withdrawn advisories are left out (their withdrawal notice says so). Each revision's `key` identifies
    it for good: announcing by (organisation, key) delivers each change once, however often this runs."""
    delivered = Delivery.objects.filter(partner_id=partner_id, delivered_at__gt=since).values("advisory_id")
    went_public = ReleaseWave.objects.filter(
        level=AccessLevel.GENERIC, status=WaveStatus.RELEASED, released_at__gt=since
    ).values("advisory_id")
    advisories = list(
        Advisory.objects.filter(Q(pk__in=delivered) | Q(pk__in=went_public), deliveries__partner_id=partner_id)
        .exclude(status=AdvisoryStatus.WITHDRAWN)
        .distinct()
    )
    revisions = copy_revisions(partner_id=partner_id, advisories=advisories)
    changes = [
        (advisory, revision) for advisory in advisories for revision in revisions[advisory.pk] if revision.at > since
    ]
    return sorted(changes, key=lambda change: (change[1].at, change[0].identifier))
