"""Settings shared by every environment. Each value is read once from the environment (django-environ,
config/settings/environment.py). Grouped by concern: this module (apps, database, files, email and the program's
own limits) imports security.py (authentication, sessions, HTTP security), workers.py (Celery and the beat schedule)
and api.py (the partner API); local.py, test.py and production.py start from it."""

from datetime import timedelta

from .api import *  # noqa: F403
from .environment import BASE_DIR, VAR_DIR, env
from .security import *  # noqa: F403
from .workers import *  # noqa: F403

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

# Audit log (docs/audit.md). The keys come from the environment: development values in local and test settings,
# required in production; verify_audit reports an event still unchained after the grace period.
AUDIT_LINK_GRACE_SECONDS = env.int("FOREWARN_AUDIT_LINK_GRACE_SECONDS", default=300)
AUDIT_CHECKPOINT_PUBLIC_KEYS = env.list("FOREWARN_AUDIT_CHECKPOINT_PUBLIC_KEYS", default=[])
# Development values only (local and test settings): anyone can read them here.
DEVELOPMENT_AUDIT_CHAIN_KEY = "development-only-audit-chain-key-not-a-secret"
DEVELOPMENT_AUDIT_CHECKPOINT_SIGNING_KEY = "ZGV2ZWxvcG1lbnQtb25seS1jaGVja3BvaW50LWtleSE="

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

# Protection status: organisations that have not reported on an advisory are reminded once, this many hours before
# its public release (workers.py schedules the check).
FOREWARN_PROTECTION_REMINDER_HOURS = env.int("FOREWARN_PROTECTION_REMINDER_HOURS", default=48)

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

# Compliance: evidence files, periodic reviews.
EVIDENCE_MAX_BYTES = env.int("FOREWARN_EVIDENCE_MAX_BYTES", default=25 * 1024 * 1024)
COMPLIANCE_REVIEW_INTERVAL_MONTHS = env.int("FOREWARN_COMPLIANCE_REVIEW_INTERVAL_MONTHS", default=12)
# An open review not completed this many days after it fell due is listed as overdue.
COMPLIANCE_REVIEW_GRACE_DAYS = env.int("FOREWARN_COMPLIANCE_REVIEW_GRACE_DAYS", default=30)
