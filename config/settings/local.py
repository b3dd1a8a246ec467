"""Development: SQLite under var/, filesystem broker, console email. Needs no server."""

from .base import *  # noqa: F403
from .base import BROKER_DIR, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-a-secret")
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405

for folder in (VAR_DIR, BROKER_DIR / "queue", BROKER_DIR / "processed", BROKER_DIR / "control"):
    folder.mkdir(parents=True, exist_ok=True)
WHITENOISE_AUTOREFRESH = True  # serve from the finders; no collectstatic in development
