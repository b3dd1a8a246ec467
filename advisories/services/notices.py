"""Partner notices: inbox notices for deliveries and withdrawals, their emails (immediate or daily digest),
the dispatcher that catches what was not sent, and each user's reading and email preference."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection, send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from advisories.models import Delivery, EmailMode, Notice, NoticeKind, NoticePreference
from advisories.notifications import digest_email, notice_email
from advisories.webhooks.services import queue_delivery_events
from core.services import record_audit_event
from partners.models import PartnerMembership


def send_release_notices(*, delivery_ids: list[int]) -> int:
    """Put a notice in the inbox of every active member of each organisation that received one of these
    deliveries (at most one per user and wave: a database constraint) and the `advisory.delivered` webhook events,
    commit, then email those who want immediate email. Inbox notices, webhook events and the deliveries'
    `notified_at` are one transaction: a failure there leaves both
    untouched and no email sent, and the retry (or the dispatcher) starts again. A retried or concurrent run finds
    the deliveries already notified (or locked) and creates nothing. Returns the number of emails sent."""
    with transaction.atomic():
        deliveries = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("advisory", "partner")
            .filter(pk__in=delivery_ids, notified_at__isnull=True)
        )
        if not deliveries:
            return 0
        now = timezone.now()
        members_by_partner: dict[int, list[int]] = {}
        for partner_id, user_id in PartnerMembership.objects.filter(
            partner_id__in={d.partner_id for d in deliveries}, is_active=True, user__is_active=True
        ).values_list("partner_id", "user_id"):
            members_by_partner.setdefault(partner_id, []).append(user_id)
        Notice.objects.bulk_create(
            [
                Notice(
                    user_id=user_id,
                    partner_id=delivery.partner_id,
                    advisory_id=delivery.advisory_id,
                    wave_id=delivery.wave_id,
                    kind=NoticeKind.RELEASED,
                    level=delivery.level,
                    created_at=now,
                )
                for delivery in deliveries
                for user_id in members_by_partner.get(delivery.partner_id, [])
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(notified_at=now)
        # The organisations' webhook events are written in the same transaction, so they are never lost either.
        queue_delivery_events([d.pk for d in deliveries])
        notice_ids = list(
            Notice.objects.filter(
                kind=NoticeKind.RELEASED,
                wave_id__in={d.wave_id for d in deliveries},
                partner_id__in={d.partner_id for d in deliveries},
                emailed_at__isnull=True,
            ).values_list("pk", flat=True)
        )
    return email_notices(notice_ids=notice_ids)


def _wants_email(mode: str):
    """Users whose preference is `mode` (no preference row means immediate)."""
    if mode == EmailMode.IMMEDIATE:
        return Q(user__notice_preference__isnull=True) | Q(user__notice_preference__email_mode=mode)
    return Q(user__notice_preference__email_mode=mode)


def email_notices(*, notice_ids: list[int]) -> int:
    """Email each of these notices not yet emailed whose user wants immediate email, exactly once per notice: each
    notice is locked, sent and marked in its own transaction, so a failure part-way (SMTP refusing, the database
    gone) keeps every email already sent marked and raises for the rest, which a retry sends. The one window for a
    second email is a crash after the SMTP server accepted a message and before its mark commits (docs/deploy.md).
    The batch is read and its emails rendered up front (one body per organisation and advisory, whatever the number
    of its members), and one SMTP connection carries them all, so the per-notice transaction holds only the lock,
    the send and the mark. Unless NOTICE_EMAIL_SYNCHRONOUS_COMMIT, the mark's commit does not wait for the disk
    (three quarters of an email's time did): a crashed worker or a cut connection changes nothing above, and only
    a crash of the database server itself can lose the marks of its last fraction of a second, whose emails the
    dispatcher then sends again (docs/deploy.md). Returns the number of emails sent."""
    if not notice_ids:
        return 0
    pending = _immediate_unsent(Notice.objects.filter(pk__in=set(notice_ids)))
    notices = list(pending.select_related("advisory", "user", "partner").order_by("pk"))
    rendered: dict[tuple, tuple[str, str]] = {}
    sent = 0
    with get_connection() as smtp:
        for notice in notices:
            key = (notice.advisory_id, notice.kind, notice.level, notice.partner_id)
            if key not in rendered:
                rendered[key] = notice_email(notice)
            subject, body = rendered[key]
            with transaction.atomic():
                if connection.vendor == "postgresql" and not settings.NOTICE_EMAIL_SYNCHRONOUS_COMMIT:
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit TO OFF")
                # Checked again under the lock: a concurrent run or the dispatcher may have sent it since the read.
                unsent = Notice.objects.select_for_update(skip_locked=True).filter(
                    pk=notice.pk, emailed_at__isnull=True
                )
                if not unsent.exists():
                    continue
                smtp.send_messages([EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [notice.user.email])])
                Notice.objects.filter(pk=notice.pk).update(emailed_at=timezone.now())
            sent += 1
    return sent


def _immediate_unsent(notices):
    """Those of these notices not yet emailed whose active user wants immediate email."""
    return notices.filter(_wants_email(EmailMode.IMMEDIATE), emailed_at__isnull=True, user__is_active=True)


def dispatch_pending_notices(*, now: datetime | None = None) -> dict[str, int]:
    """The outbox's safety net, run by beat: notify every delivery and email every immediate notice that should
    have been handled after its transaction committed but was not (the broker was down, a worker died, a retry gave
    up). Only rows older than NOTICE_DISPATCH_GRACE_SECONDS (their own task normally runs first; both are idempotent
    anyway) and younger than NOTICE_DISPATCH_MAX_AGE_HOURS (a notice days late would mislead more than inform;
    `release_pipeline_status` reports those). Returns what was done."""
    now = now or timezone.now()
    newest = now - timedelta(seconds=settings.NOTICE_DISPATCH_GRACE_SECONDS)
    oldest = now - timedelta(hours=settings.NOTICE_DISPATCH_MAX_AGE_HOURS)
    batch_size = settings.RELEASE_NOTICE_BATCH_SIZE
    delivery_ids = list(
        Delivery.objects.filter(notified_at__isnull=True, delivered_at__range=(oldest, newest))
        .order_by("delivered_at", "pk")
        .values_list("pk", flat=True)
    )
    emails = 0
    for start in range(0, len(delivery_ids), batch_size):
        emails += send_release_notices(delivery_ids=delivery_ids[start : start + batch_size])
    notice_ids = list(
        Notice.objects.filter(
            _wants_email(EmailMode.IMMEDIATE),
            emailed_at__isnull=True,
            user__is_active=True,
            created_at__range=(oldest, newest),
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(notice_ids), batch_size):
        emails += email_notices(notice_ids=notice_ids[start : start + batch_size])
    return {"deliveries": len(delivery_ids), "emails": emails}


def send_notice_digests(*, now: datetime | None = None) -> int:
    """One email per user who chose the daily digest, listing every notice not yet emailed to them (identifier,
    title, level and link only). Each user's notices are locked and marked in one transaction, so a concurrent or
    repeated run sends nothing twice. Returns the number of digests sent."""
    now = now or timezone.now()
    user_ids = list(
        Notice.objects.filter(_wants_email(EmailMode.DAILY), emailed_at__isnull=True, created_at__lte=now)
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    sent = 0
    for user_id in user_ids:
        with transaction.atomic():
            notices = list(
                Notice.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("advisory", "user")
                .filter(
                    _wants_email(EmailMode.DAILY),
                    user_id=user_id,
                    user__is_active=True,
                    emailed_at__isnull=True,
                    created_at__lte=now,
                )
                .order_by("created_at", "id")
            )
            if not notices:
                continue
            subject, body = digest_email(notices)
            send_mail(
                subject,
                body,
                settings.DEFAULT_FROM_EMAIL,
                [notices[0].user.email],
                fail_silently=False,
            )
            Notice.objects.filter(pk__in=[n.pk for n in notices]).update(emailed_at=timezone.now())
            sent += 1
    return sent


def mark_notices_read(*, user, notice_ids: list[int] | None = None) -> int:
    """Mark the user's own notices read (all unread ones when `notice_ids` is None). Returns how many changed."""
    notices = Notice.objects.filter(user=user, read_at__isnull=True)
    if notice_ids is not None:
        notices = notices.filter(pk__in=notice_ids)
    return notices.update(read_at=timezone.now())


def set_notice_preference(*, user, email_mode: str) -> NoticePreference:
    """Record how a partner user wants notices by email (immediate, daily digest or none)."""
    if email_mode not in EmailMode.values:
        raise ValidationError({"email_mode": "Choose immediate, daily or none."})
    with transaction.atomic():
        preference, _ = NoticePreference.objects.update_or_create(user=user, defaults={"email_mode": email_mode})
        record_audit_event(actor=user, action="notice_preference.changed", target=user, details={"mode": email_mode})
    return preference
