"""Celery: the broker, the two queues, task time limits, and the beat schedule (every periodic task, with the
setting that says how often it runs)."""

from datetime import timedelta

from celery.schedules import crontab
from kombu import Queue

from config.celery_broker import broker_transport

from .environment import VAR_DIR, env

# Celery: the database is the source of truth; tasks are idempotent and take ids.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
# Redis: a transport whose worker survives the broker dropping while a task runs (config/celery_broker.py).
CELERY_BROKER_TRANSPORT = broker_transport(CELERY_BROKER_URL)
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# No task runs longer than this: the soft limit raises inside the task (its transaction rolls back), the hard limit
# replaces the pool process. On Redis, an unacknowledged (acks-late) message is redelivered after the visibility
# timeout, which must therefore exceed the hard limit, or a task still running would be run twice at once
# (production settings refuse to load otherwise).
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT_SECONDS", default=900)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# A task running when the broker connection drops finishes; its message, restored to the queue, runs again and
# finds the work done (every acks-late task is idempotent).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Two queues (docs/deploy.md "Processes"): release ticks on their own, taken by a worker that does nothing else, so
# that a burst of notice emails never makes a release late; notices, emails, webhooks and the other periodic work
# on the default queue. A worker started without --queues takes both (development, tests).
CELERY_RELEASE_QUEUE = "releases"
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(CELERY_RELEASE_QUEUE))
CELERY_TASK_ROUTES = {"advisories.tasks.release_due_waves": {"queue": CELERY_RELEASE_QUEUE}}
# A wave is released at most about this long after its time (plus the release itself): the lateness goal is 2 s.
RELEASE_INTERVAL_SECONDS = env.float("FOREWARN_RELEASE_INTERVAL_SECONDS", default=1.0)
# A periodic task's message that no worker took within this long (or two intervals, if longer) is dropped and
# recorded as a skipped tick. The worker compares the expiry with its own clock, so it must be far longer than any
# clock skew monitoring tolerates (FOREWARN_MAX_CLOCK_SKEW_SECONDS): a worker a minute fast still runs every tick.
TICK_EXPIRY_SECONDS = env.int("FOREWARN_TICK_EXPIRY_SECONDS", default=300)


def tick_expiry(interval_seconds: float) -> int:
    return max(TICK_EXPIRY_SECONDS, round(2 * interval_seconds))


# Embargo decisions read the database's clock (core/clock.py); a node whose own clock is off by more than this is
# reported by /readyz, the release heartbeat and release_pipeline_status.
FOREWARN_EMBARGO_CLOCK = env.str("FOREWARN_EMBARGO_CLOCK", default="database")
FOREWARN_MAX_CLOCK_SKEW_SECONDS = env.float("FOREWARN_MAX_CLOCK_SKEW_SECONDS", default=2.0)
SUSPENSION_CHECK_SECONDS = env.float("FOREWARN_SUSPENSION_CHECK_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE = {
    "release-due-waves": {
        "task": "advisories.tasks.release_due_waves",
        "schedule": timedelta(seconds=RELEASE_INTERVAL_SECONDS),
        # A tick that no worker picked up in time is superseded by the next one (django-celery-beat reads
        # expire_seconds; the interval itself is stored in whole seconds).
        "options": {"expire_seconds": tick_expiry(RELEASE_INTERVAL_SECONDS)},
    },
    "end-due-suspensions": {
        "task": "partners.tasks.end_due_suspensions",
        "schedule": timedelta(seconds=SUSPENSION_CHECK_SECONDS),
        "options": {"expire_seconds": tick_expiry(SUSPENSION_CHECK_SECONDS)},
    },
}
# The one delivery path's safety net (docs/architecture.md, "Release and the one delivery path"): what is due and
# missing is delivered within these intervals, for advisories under embargo and for all (the public archive).
RECONCILE_DELIVERIES_SECONDS = env.float("FOREWARN_RECONCILE_DELIVERIES_SECONDS", default=60.0)
RECONCILE_ALL_DELIVERIES_SECONDS = env.float("FOREWARN_RECONCILE_ALL_DELIVERIES_SECONDS", default=3600.0)
CELERY_BEAT_SCHEDULE["reconcile-embargoed-deliveries"] = {
    "task": "advisories.tasks.reconcile_deliveries",
    "schedule": timedelta(seconds=RECONCILE_DELIVERIES_SECONDS),
    "kwargs": {"embargoed_only": True},
    "options": {"expire_seconds": max(1, round(RECONCILE_DELIVERIES_SECONDS))},
}
CELERY_BEAT_SCHEDULE["reconcile-all-deliveries"] = {
    "task": "advisories.tasks.reconcile_deliveries",
    "schedule": timedelta(seconds=RECONCILE_ALL_DELIVERIES_SECONDS),
    "options": {"expire_seconds": max(1, round(RECONCILE_ALL_DELIVERIES_SECONDS))},
}
# Partners who chose the daily digest get it once a day at this UTC hour.
NOTICE_DIGEST_HOUR_UTC = env.int("FOREWARN_NOTICE_DIGEST_HOUR_UTC", default=6)
CELERY_BEAT_SCHEDULE["send-notice-digests"] = {
    "task": "advisories.tasks.send_notice_digests",
    "schedule": crontab(hour=NOTICE_DIGEST_HOUR_UTC, minute=0),
}
AGREEMENT_REMINDER_INTERVAL_SECONDS = env.float("FOREWARN_AGREEMENT_REMINDER_INTERVAL_SECONDS", default=900.0)
CELERY_BEAT_SCHEDULE["send-agreement-reminders"] = {
    "task": "compliance.tasks.send_agreement_reminders",
    "schedule": timedelta(seconds=AGREEMENT_REMINDER_INTERVAL_SECONDS),
    "options": {"expire_seconds": tick_expiry(AGREEMENT_REMINDER_INTERVAL_SECONDS)},
}
RELEASE_NOTICE_BATCH_SIZE = env.int("FOREWARN_RELEASE_NOTICE_BATCH_SIZE", default=200)
# Each notice email is marked sent in its own transaction. Off: that commit does not wait for the disk, about four
# times the emails a second; a crash of the database server (not of a worker) can then lose the marks of its last
# fraction of a second, and those emails go out twice. On: at most one email per worker process twice.
NOTICE_EMAIL_SYNCHRONOUS_COMMIT = env.bool("FOREWARN_NOTICE_EMAIL_SYNCHRONOUS_COMMIT", default=False)
# The notice outbox's safety net (docs/deploy.md): deliveries not yet notified and immediate notices not yet emailed,
# older than the grace period (their own task normally runs first) and younger than the maximum age.
NOTICE_DISPATCH_SECONDS = env.float("FOREWARN_NOTICE_DISPATCH_SECONDS", default=30.0)
NOTICE_DISPATCH_GRACE_SECONDS = env.float("FOREWARN_NOTICE_DISPATCH_GRACE_SECONDS", default=30.0)
NOTICE_DISPATCH_MAX_AGE_HOURS = env.float("FOREWARN_NOTICE_DISPATCH_MAX_AGE_HOURS", default=48.0)
# The outbox of emails that follow a change (core/outbox.py): beat runs what its own task left pending.
OUTBOX_DISPATCH_SECONDS = env.float("FOREWARN_OUTBOX_DISPATCH_SECONDS", default=30.0)
OUTBOX_DISPATCH_GRACE_SECONDS = env.float("FOREWARN_OUTBOX_DISPATCH_GRACE_SECONDS", default=30.0)
OUTBOX_DISPATCH_BATCH_SIZE = 500
OUTBOX_MAX_ATTEMPTS = env.int("FOREWARN_OUTBOX_MAX_ATTEMPTS", default=20)
CELERY_BEAT_SCHEDULE["dispatch-outbox"] = {
    "task": "core.tasks.dispatch_outbox",
    "schedule": timedelta(seconds=OUTBOX_DISPATCH_SECONDS),
    "options": {"expire_seconds": tick_expiry(OUTBOX_DISPATCH_SECONDS)},
}
CELERY_BEAT_SCHEDULE["dispatch-pending-notices"] = {
    "task": "advisories.tasks.dispatch_pending_notices",
    "schedule": timedelta(seconds=NOTICE_DISPATCH_SECONDS),
    "options": {"expire_seconds": tick_expiry(NOTICE_DISPATCH_SECONDS)},
}

# Audit log (docs/audit.md): an event waits for the sequencer at most about AUDIT_LINK_INTERVAL_SECONDS (it is
# normally linked right after its transaction commits); a signed checkpoint is published every interval.
AUDIT_LINK_INTERVAL_SECONDS = env.float("FOREWARN_AUDIT_LINK_INTERVAL_SECONDS", default=5.0)
AUDIT_CHECKPOINT_INTERVAL_SECONDS = env.float("FOREWARN_AUDIT_CHECKPOINT_INTERVAL_SECONDS", default=600.0)
CELERY_BEAT_SCHEDULE["link-audit-events"] = {
    "task": "core.tasks.link_audit_events",
    "schedule": timedelta(seconds=AUDIT_LINK_INTERVAL_SECONDS),
    "options": {"expire_seconds": tick_expiry(AUDIT_LINK_INTERVAL_SECONDS)},
}
CELERY_BEAT_SCHEDULE["publish-audit-checkpoint"] = {
    "task": "core.tasks.publish_audit_checkpoint",
    "schedule": timedelta(seconds=AUDIT_CHECKPOINT_INTERVAL_SECONDS),
    "options": {"expire_seconds": tick_expiry(AUDIT_CHECKPOINT_INTERVAL_SECONDS)},
}
# Protection status: the beat task looks for due reminders every few minutes.
PROTECTION_REMINDER_INTERVAL_SECONDS = env.float("FOREWARN_PROTECTION_REMINDER_INTERVAL_SECONDS", default=300.0)
CELERY_BEAT_SCHEDULE["send-protection-reminders"] = {
    "task": "advisories.tasks.send_protection_reminders",
    "schedule": timedelta(seconds=PROTECTION_REMINDER_INTERVAL_SECONDS),
    "options": {"expire_seconds": tick_expiry(PROTECTION_REMINDER_INTERVAL_SECONDS)},
}
# Webhook events whose task message was lost (WEBHOOK_STALLED_AFTER) are queued again.
CELERY_BEAT_SCHEDULE["requeue-stalled-webhook-messages"] = {
    "task": "advisories.tasks.requeue_stalled_webhook_messages",
    "schedule": timedelta(minutes=5),
    "options": {"expire_seconds": tick_expiry(300)},
}
# Compliance: jurisdiction policies taking effect, periodic reviews falling due.
POLICY_CHECK_INTERVAL_SECONDS = env.float("FOREWARN_POLICY_CHECK_INTERVAL_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE["apply-due-jurisdiction-policies"] = {
    "task": "compliance.tasks.apply_due_jurisdiction_policies",
    "schedule": timedelta(seconds=POLICY_CHECK_INTERVAL_SECONDS),
    "options": {"expire_seconds": tick_expiry(POLICY_CHECK_INTERVAL_SECONDS)},
}
CELERY_BEAT_SCHEDULE["open-due-compliance-reviews"] = {
    "task": "compliance.tasks.open_due_reviews",
    "schedule": crontab(hour=5, minute=30),
}
