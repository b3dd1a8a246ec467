"""Settings for the benchmarks: the local settings (read from the environment bench/common.py sets: PostgreSQL,
Redis, no debug) plus the baseline pages, and a static root that gunicorn's WhiteNoise serves for bench/load.sh."""

import os

from config.settings.local import *  # noqa: F403
from config.settings.local import VAR_DIR

ROOT_URLCONF = "bench.baseline_views"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
STATIC_ROOT = str(VAR_DIR / "static")
WHITENOISE_AUTOREFRESH = False  # as in production: files indexed once at start
WHITENOISE_USE_FINDERS = True
# Persistent connections, as in production (config/settings/production.py).
DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
# bench/punctuality.py sends the notice emails over SMTP to its own sink (bench/smtp_sink.py).
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("FOREWARN_BENCH_SMTP_PORT", "2525"))
