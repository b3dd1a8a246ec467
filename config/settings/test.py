"""Tests: SQLite by default, PostgreSQL when DATABASE_URL says so (CI). Fast hashing, in-memory email."""

import atexit
import shutil
import tempfile

from .base import *  # noqa: F403
from .base import DEVELOPMENT_AUDIT_CHAIN_KEY, DEVELOPMENT_AUDIT_CHECKPOINT_SIGNING_KEY, env

SECRET_KEY = "test-only-not-a-secret"  # test settings only  # nosec B105
AUDIT_CHAIN_KEY = DEVELOPMENT_AUDIT_CHAIN_KEY
AUDIT_CHECKPOINT_SIGNING_KEY = DEVELOPMENT_AUDIT_CHECKPOINT_SIGNING_KEY
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
PRIVATE_MEDIA_ROOT = env.str("FOREWARN_PRIVATE_MEDIA_ROOT", default=tempfile.mkdtemp(prefix="forewarn-test-media-"))
atexit.register(shutil.rmtree, PRIVATE_MEDIA_ROOT, ignore_errors=True)
STORAGES["private"]["OPTIONS"]["location"] = PRIVATE_MEDIA_ROOT  # noqa: F405
STORAGES["default"]["OPTIONS"]["location"] = PRIVATE_MEDIA_ROOT  # noqa: F405
AUDIT_CHECKPOINT_ROOT = tempfile.mkdtemp(prefix="forewarn-test-checkpoints-")
atexit.register(shutil.rmtree, AUDIT_CHECKPOINT_ROOT, ignore_errors=True)
STORAGES["audit_checkpoints"]["OPTIONS"]["location"] = AUDIT_CHECKPOINT_ROOT  # noqa: F405
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# The webhook tests run their receiver on http://127.0.0.1.
WEBHOOK_ALLOW_LOOPBACK_HTTP = True
WHITENOISE_AUTOREFRESH = True  # serve from the finders; no collectstatic in tests
# django-axes logs every login and logout at INFO; in tests that only buries the failures.
LOGGING = {**LOGGING, "loggers": {**LOGGING.get("loggers", {}), "axes": {"level": "WARNING"}}}  # noqa: F405
# Tests move time with time_machine, which cannot move PostgreSQL's clock: they decide embargoes by the process
# clock. tests/advisories/test_embargo_clock.py switches the database clock on (core/clock.py).
FOREWARN_EMBARGO_CLOCK = "process"
