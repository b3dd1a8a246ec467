"""With Redis frozen (SIGSTOP: connections are accepted, nothing is ever answered), /readyz still answers within
2 s, naming the broker and the cache, and /healthz answers at once: a frozen dependency never holds a web worker."""

import os
import signal
import time

import pytest
from django.test import override_settings
from django.urls import reverse

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def frozen_redis(private_redis):
    pid = int((private_redis.directory / f"redis-{private_redis.port}.pid").read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        yield private_redis
    finally:
        os.kill(pid, signal.SIGCONT)


def test_readyz_answers_within_two_seconds_with_redis_frozen(client, frozen_redis):
    assert client.get(reverse("healthz")).status_code == 200  # a web worker that has served requests already
    with override_settings(
        CELERY_BROKER_URL=frozen_redis.url,
        CELERY_BROKER_TRANSPORT_OPTIONS={},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": frozen_redis.url}},
    ):
        started = time.monotonic()
        readiness = client.get(reverse("readyz"))
        readiness_seconds = time.monotonic() - started
        started = time.monotonic()
        liveness = client.get(reverse("healthz"))
        liveness_seconds = time.monotonic() - started

    assert readiness.status_code == 503
    assert readiness.json()["checks"] == {
        "database": "ok",
        "clock": "ok",
        "broker": "failed",
        "cache": "failed",
        "storage": "ok",
    }
    assert readiness_seconds < 2
    assert liveness.status_code == 200
    assert liveness_seconds < 0.5
