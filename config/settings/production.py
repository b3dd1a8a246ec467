"""Production: every secret and service address comes from the environment; no defaults for secrets.

docs/deploy.md lists every variable and describes the processes (gunicorn web nodes, Celery workers, one beat).
"""

import base64
import binascii

from django.core.exceptions import ImproperlyConfigured

from config.celery_broker import broker_transport

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")

# Audit chain and checkpoint keys (docs/audit.md): outside the database, never the development values.
AUDIT_CHAIN_KEY = env.str("FOREWARN_AUDIT_CHAIN_KEY")
AUDIT_CHECKPOINT_SIGNING_KEY = env.str("FOREWARN_AUDIT_CHECKPOINT_SIGNING_KEY")
if len(AUDIT_CHAIN_KEY) < 32 or AUDIT_CHAIN_KEY == DEVELOPMENT_AUDIT_CHAIN_KEY:  # noqa: F405
    raise ImproperlyConfigured("FOREWARN_AUDIT_CHAIN_KEY must be a secret of at least 32 characters.")
try:
    _checkpoint_seed = base64.b64decode(AUDIT_CHECKPOINT_SIGNING_KEY, validate=True)
except binascii.Error:
    _checkpoint_seed = b""
if len(_checkpoint_seed) != 32 or AUDIT_CHECKPOINT_SIGNING_KEY == DEVELOPMENT_AUDIT_CHECKPOINT_SIGNING_KEY:  # noqa: F405
    raise ImproperlyConfigured(
        "FOREWARN_AUDIT_CHECKPOINT_SIGNING_KEY must be 32 random bytes in base64, not the development key."
    )

# PostgreSQL. Persistent connections, checked before reuse so that a database restart costs one retry, not errors.
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Redis: the Celery broker and the shared cache (use separate Redis database numbers, or separate servers).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_BROKER_TRANSPORT = broker_transport(CELERY_BROKER_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task is redelivered if its worker dies before acknowledging it (acks_late tasks) after this many seconds.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=3600),
}
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= CELERY_TASK_TIME_LIMIT:  # noqa: F405
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT_SECONDS must exceed CELERY_TASK_TIME_LIMIT_SECONDS: a message of a task still "
        "running would be redelivered and the task run twice at once."
    )
if FOREWARN_EMBARGO_CLOCK != "database":  # noqa: F405
    raise ImproperlyConfigured("FOREWARN_EMBARGO_CLOCK must be 'database' in production: one clock decides embargoes.")
CACHES = {"default": env.cache("CACHE_URL", default=env.str("REDIS_URL", default="redis://127.0.0.1:6379/1"))}
# One task at a time per worker process: with acks_late no process hoards messages another could run.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=None)  # None: one per CPU
# Logs go through Django's LOGGING below (JSON on stdout), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# CSAF provider: documents are signed with the program's key (FOREWARN_CSAF_SIGNING_KEY_FILE), never a generated one.
FOREWARN_CSAF_DEVELOPMENT_KEY = False

# SMTP.
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_SECONDS", default=30)
SERVER_EMAIL = env.str("DJANGO_SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)  # noqa: F405

# Private files (artifacts, evidence): local files by default (a shared volume when there are several web nodes
# and workers), or an S3-compatible bucket. Either way no URL ever serves them: downloads stream through the
# authorised views. Credentials come from the standard AWS variables or the instance role, never from settings.
PRIVATE_STORAGE = env.str("FOREWARN_PRIVATE_STORAGE", default="local")
if PRIVATE_STORAGE == "s3":
    _object_parameters = {}
    if env.str("FOREWARN_S3_SERVER_SIDE_ENCRYPTION", default=""):
        _object_parameters["ServerSideEncryption"] = env.str("FOREWARN_S3_SERVER_SIDE_ENCRYPTION")
    _private_storage = {
        "BACKEND": "core.object_storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": env.str("FOREWARN_S3_BUCKET"),
            "location": env.str("FOREWARN_S3_PREFIX", default="private"),
            "endpoint_url": env.str("FOREWARN_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("FOREWARN_S3_REGION", default=None),
            # "path" for MinIO and most self-hosted stores; None lets boto3 choose.
            "addressing_style": env.str("FOREWARN_S3_ADDRESSING_STYLE", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "object_parameters": _object_parameters,
        },
    }
    STORAGES["default"] = _private_storage  # noqa: F405
    STORAGES["private"] = _private_storage  # noqa: F405
elif PRIVATE_STORAGE != "local":
    raise ImproperlyConfigured(f"FOREWARN_PRIVATE_STORAGE must be 'local' or 's3', not {PRIVATE_STORAGE!r}.")

# Signed audit checkpoints: local files (FOREWARN_AUDIT_CHECKPOINT_ROOT, by default var/audit-checkpoints) or a
# bucket that the database's credentials cannot write, ideally with object lock (write once, read many).
AUDIT_CHECKPOINT_STORAGE = env.str("FOREWARN_AUDIT_CHECKPOINT_STORAGE", default="local")
if AUDIT_CHECKPOINT_STORAGE == "s3":
    STORAGES["audit_checkpoints"] = {  # noqa: F405
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("FOREWARN_AUDIT_CHECKPOINT_S3_BUCKET"),
            "location": env.str("FOREWARN_AUDIT_CHECKPOINT_S3_PREFIX", default="audit-checkpoints"),
            "endpoint_url": env.str("FOREWARN_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("FOREWARN_S3_REGION", default=None),
            "addressing_style": env.str("FOREWARN_S3_ADDRESSING_STYLE", default=None),
            "default_acl": "private",
            "file_overwrite": False,
        },
    }
elif AUDIT_CHECKPOINT_STORAGE != "local":
    raise ImproperlyConfigured(
        f"FOREWARN_AUDIT_CHECKPOINT_STORAGE must be 'local' or 's3', not {AUDIT_CHECKPOINT_STORAGE!r}."
    )

# HTTPS behind a reverse proxy that sets X-Forwarded-Proto. Load balancer probes may use plain HTTP.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Structured logs: one JSON object per line on stdout, for the platform's log collector.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(process)d",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,
        },
    },
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"}},
    "root": {"handlers": ["stdout"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
