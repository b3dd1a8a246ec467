"""Partner notices, and the release pipeline's backlog (`release_pipeline_status`)."""

from datetime import datetime

from django.db.models import (
    Q,
    QuerySet,
)

from advisories.models import (
    AdvisoryStatus,
    Delivery,
    EmailMode,
    Notice,
    NoticePreference,
    ReleaseWave,
    WaveStatus,
)


def notices_for_user(*, user) -> QuerySet[Notice]:
    return Notice.objects.filter(user=user).select_related("advisory").order_by("-created_at", "-id")


def unread_notice_count(*, user) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def notice_preference(*, user) -> str:
    preference = NoticePreference.objects.filter(user=user).values_list("email_mode", flat=True).first()
    return preference or EmailMode.IMMEDIATE


def due_unreleased_waves(*, now: datetime):
    """Waves whose time has come that are still waiting for `release_due_waves` (oldest first)."""
    return (
        ReleaseWave.objects.select_related("advisory")
        .filter(
            status=WaveStatus.SCHEDULED,
            scheduled_at__lte=now,
            advisory__status__in=[AdvisoryStatus.SCHEDULED, AdvisoryStatus.RELEASED],
        )
        .order_by("scheduled_at", "-level")
    )


def instants_falling_due(*, after: datetime, until: datetime) -> list[datetime]:
    """The distinct instants in (after, until] at which a scheduled wave falls due."""
    return list(
        ReleaseWave.objects.filter(status=WaveStatus.SCHEDULED, scheduled_at__gt=after, scheduled_at__lte=until)
        .order_by("scheduled_at")
        .values_list("scheduled_at", flat=True)
        .distinct()
    )


def overdue_notices(*, older_than: datetime) -> dict[str, int]:
    """The notice outbox's backlog older than `older_than`: deliveries whose partners' inboxes were not yet told,
    and notices that should have been emailed at once but were not."""
    wants_immediate_email = Q(user__notice_preference__isnull=True) | Q(
        user__notice_preference__email_mode=EmailMode.IMMEDIATE
    )
    return {
        "deliveries_not_notified": Delivery.objects.filter(
            notified_at__isnull=True, delivered_at__lt=older_than
        ).count(),
        "notices_not_emailed": Notice.objects.filter(
            wants_immediate_email, emailed_at__isnull=True, user__is_active=True, created_at__lt=older_than
        ).count(),
    }
