"""Development: SQLite under var/, filesystem broker, console email. Needs no server."""

from .base import *  # noqa: F403
from .base import (
    BROKER_DIR,
    DEVELOPMENT_AUDIT_CHAIN_KEY,
    DEVELOPMENT_AUDIT_CHECKPOINT_SIGNING_KEY,
    VAR_DIR,
    env,
)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-a-secret")
AUDIT_CHAIN_KEY = env.str("FOREWARN_AUDIT_CHAIN_KEY", default=DEVELOPMENT_AUDIT_CHAIN_KEY)
AUDIT_CHECKPOINT_SIGNING_KEY = env.str(
    "FOREWARN_AUDIT_CHECKPOINT_SIGNING_KEY", default=DEVELOPMENT_AUDIT_CHECKPOINT_SIGNING_KEY
)
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405

for folder in (VAR_DIR, BROKER_DIR / "queue", BROKER_DIR / "processed", BROKER_DIR / "control"):
    folder.mkdir(parents=True, exist_ok=True)
WHITENOISE_AUTOREFRESH = True  # serve from the finders; no collectstatic in development
