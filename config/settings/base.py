"""Settings shared by every environment. Each value is read once from the environment (django-environ)."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from kombu import Queue

from config.celery_broker import broker_transport

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("FOREWARN_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_countries",
    "django_celery_beat",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "partners",
    "compliance",
    "advisories",
    "program",
]

MIDDLEWARE = [
    # First: /healthz touches nothing outside the process (no session, no user).
    "core.middleware.LivenessMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.RequireMultiFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so that it sees every failed login the views report.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.roles",
                "advisories.context_processors.notices",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'forewarn.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file in development: wait for locks, take the write lock up front.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses any authentication while the client is locked out after repeated failures.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Idle expiry: every request renews the session, which ends after this many seconds without one.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# The client address (core.http.client_ip, the one source for lockout, rate limits, throttling, audit and download
# records): how many reverse proxies stand in front of the web nodes, and/or the networks they sit in. With neither,
# X-Forwarded-For is ignored.
TRUSTED_PROXY_COUNT = env.int("FOREWARN_TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXIES = env.list("FOREWARN_TRUSTED_PROXIES", default=[])

# Content-Security-Policy: nothing inline, nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Login throttling: after this many failures for one account from one address, that pair is locked out.
AXES_FAILURE_LIMIT = env.int("FOREWARN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("FOREWARN_LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Behind a reverse proxy every client would otherwise share the proxy's address (one lockout for everyone).
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"
# django-ratelimit's "ip" key (the /apply/ limit) reads the same address.
RATELIMIT_IP_META_KEY = "core.http.client_ip"

# Multi-factor authentication (TOTP, with single-use recovery codes) is required of every user; see
# core.middleware.RequireMultiFactorMiddleware. There is deliberately no setting to turn it off.
OTP_TOTP_ISSUER = "Forewarn"

# Anonymous access is never granted object permissions: no guardian anonymous user.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files browsers ask for at the root of the site (/favicon.ico), served by WhiteNoise as they are.
WHITENOISE_ROOT = BASE_DIR / "public"

# Advisory artifacts live in a private store that no URL serves; only authorised views stream them.
PRIVATE_MEDIA_ROOT = env.str("FOREWARN_PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "media" / "private"))
STORAGES = {
    "default": {
        "BACKEND": "core.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT},
    },
    "private": {
        "BACKEND": "core.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Signed audit checkpoints (docs/audit.md) are published outside the database: local files by default; production
# may use a bucket (FOREWARN_AUDIT_CHECKPOINT_STORAGE=s3).
STORAGES["audit_checkpoints"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": env.str("FOREWARN_AUDIT_CHECKPOINT_ROOT", default=str(VAR_DIR / "audit-checkpoints"))},
}
ARTIFACT_MAX_BYTES = env.int("FOREWARN_ARTIFACT_MAX_BYTES", default=20 * 1024 * 1024)

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("DJANGO_EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))  # for the file-based backend
# For the SMTP backend outside production (a local sink in the fault tests); production reads its own below.
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="Forewarn <no-reply@forewarn.test>")
FOREWARN_PORTAL_URL = env.str("FOREWARN_PORTAL_URL", default="http://127.0.0.1:8000")

# CSAF provider (docs/csaf-provider.md): the OpenPGP secret key that signs every CSAF document served, an
# ASCII-armoured file (never in the repository). Without one, development and tests generate a key of their own
# under var/ (FOREWARN_CSAF_DEVELOPMENT_KEY); production serves no signatures until one is set.
FOREWARN_CSAF_SIGNING_KEY_FILE = env.str("FOREWARN_CSAF_SIGNING_KEY_FILE", default="")
FOREWARN_CSAF_SIGNING_KEY_PASSPHRASE = env.str("FOREWARN_CSAF_SIGNING_KEY_PASSPHRASE", default="")
FOREWARN_CSAF_DEVELOPMENT_KEY = env.bool("FOREWARN_CSAF_DEVELOPMENT_KEY", default=True)
FOREWARN_CSAF_DEVELOPMENT_KEY_FILE = VAR_DIR / "csaf-development-signing-key.asc"

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
RELEASE_INTERVAL_SECONDS = env.float("FOREWARN_RELEASE_INTERVAL_SECONDS", default=5.0)
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

# Audit log (docs/audit.md). The keys come from the environment: development values in local and test settings,
# required in production. An event waits for the sequencer at most about AUDIT_LINK_INTERVAL_SECONDS (it is
# normally linked right after its transaction commits); verify_audit reports one unchained after the grace period.
AUDIT_LINK_INTERVAL_SECONDS = env.float("FOREWARN_AUDIT_LINK_INTERVAL_SECONDS", default=5.0)
AUDIT_LINK_GRACE_SECONDS = env.int("FOREWARN_AUDIT_LINK_GRACE_SECONDS", default=300)
AUDIT_CHECKPOINT_INTERVAL_SECONDS = env.float("FOREWARN_AUDIT_CHECKPOINT_INTERVAL_SECONDS", default=600.0)
AUDIT_CHECKPOINT_PUBLIC_KEYS = env.list("FOREWARN_AUDIT_CHECKPOINT_PUBLIC_KEYS", default=[])
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
# Development values only (local and test settings): anyone can read them here.
DEVELOPMENT_AUDIT_CHAIN_KEY = "development-only-audit-chain-key-not-a-secret"
DEVELOPMENT_AUDIT_CHECKPOINT_SIGNING_KEY = "ZGV2ZWxvcG1lbnQtb25seS1jaGVja3BvaW50LWtleSE="

# Partner API (advisories/api, docs/api.md). Tokens only: no session authentication, so no CSRF surface.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["advisories.api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["advisories.api.permissions.HasPartnerAccess"],
    # Counted in the default cache: shared by every node in production (Redis), per process otherwise.
    "DEFAULT_THROTTLE_CLASSES": ["advisories.api.throttling.ApiTokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_token": env.str("FOREWARN_API_RATE", default="600/minute"),
        # Refused tokens per client address (advisories.api.throttling.RefusedTokenThrottle).
        "api_token_refused": env.str("FOREWARN_API_REFUSAL_RATE", default="20/minute"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Forewarn partner API",
    "DESCRIPTION": "Advisories released to your organisation, under the same entitlement rule as the portal. "
    "Authenticate with an API token created by a partner admin in the portal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are public and ignore tokens; the docs load no CDN asset.
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    # No validator badge: Swagger UI would fetch it from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}

# Partner onboarding (partners app).
APPLICATION_VERIFICATION_MAX_AGE = env.int("FOREWARN_APPLICATION_VERIFICATION_HOURS", default=72) * 3600
APPLICATION_RATE = env.str("FOREWARN_APPLICATION_RATE", default="5/h")  # POSTs to /apply/ per client address
INVITATION_MAX_AGE = env.int("FOREWARN_INVITATION_DAYS", default=7) * 24 * 3600
PARTNER_DEFAULT_SEAT_LIMIT = env.int("FOREWARN_PARTNER_SEAT_LIMIT", default=10)

# Protection status (issue 13): organisations that have not reported on an advisory are reminded once, this many
# hours before its public release; the beat task looks for due reminders every few minutes.
FOREWARN_PROTECTION_REMINDER_HOURS = env.int("FOREWARN_PROTECTION_REMINDER_HOURS", default=48)
PROTECTION_REMINDER_INTERVAL_SECONDS = env.float("FOREWARN_PROTECTION_REMINDER_INTERVAL_SECONDS", default=300.0)
CELERY_BEAT_SCHEDULE["send-protection-reminders"] = {
    "task": "advisories.tasks.send_protection_reminders",
    "schedule": timedelta(seconds=PROTECTION_REMINDER_INTERVAL_SECONDS),
    "options": {"expire_seconds": tick_expiry(PROTECTION_REMINDER_INTERVAL_SECONDS)},
}
# Signed webhooks (docs/api.md, "Webhooks"): an event is tried at most WEBHOOK_MAX_ATTEMPTS times (exponential
# backoff between attempts); an endpoint is disabled after WEBHOOK_FAILURE_LIMIT failed attempts in a row. After a
# secret rotation the previous secret also signs for WEBHOOK_SECRET_GRACE_HOURS. Only tests allow http://127.0.0.1.
WEBHOOK_MAX_ATTEMPTS = env.int("FOREWARN_WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_FAILURE_LIMIT = env.int("FOREWARN_WEBHOOK_FAILURE_LIMIT", default=20)
WEBHOOK_SECRET_GRACE = timedelta(hours=env.int("FOREWARN_WEBHOOK_SECRET_GRACE_HOURS", default=24))
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.float("FOREWARN_WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=3.0)
WEBHOOK_TIMEOUT_SECONDS = env.float("FOREWARN_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_ALLOW_LOOPBACK_HTTP = False
# A CA bundle (PEM file) to verify receivers' certificates with, instead of the system's (e.g. a private CA).
WEBHOOK_CA_CERTS = env.str("FOREWARN_WEBHOOK_CA_CERTS", default="")
# Pending events with no attempt for this long lost their task message; a beat task queues them again. Longer than
# the longest backoff between two attempts (15 minutes, advisories.tasks.send_webhook_message).
WEBHOOK_STALLED_AFTER = timedelta(minutes=20)
CELERY_BEAT_SCHEDULE["requeue-stalled-webhook-messages"] = {
    "task": "advisories.tasks.requeue_stalled_webhook_messages",
    "schedule": timedelta(minutes=5),
    "options": {"expire_seconds": tick_expiry(300)},
}
# One schema name for the protection states, used by several fields of the protection endpoints.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {"ProtectionStateEnum": "advisories.models.ProtectionState"}
# Compliance (issue 5): evidence files, periodic reviews, jurisdiction policies taking effect.
EVIDENCE_MAX_BYTES = env.int("FOREWARN_EVIDENCE_MAX_BYTES", default=25 * 1024 * 1024)
COMPLIANCE_REVIEW_INTERVAL_MONTHS = env.int("FOREWARN_COMPLIANCE_REVIEW_INTERVAL_MONTHS", default=12)
# An open review not completed this many days after it fell due is listed as overdue.
COMPLIANCE_REVIEW_GRACE_DAYS = env.int("FOREWARN_COMPLIANCE_REVIEW_GRACE_DAYS", default=30)
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
