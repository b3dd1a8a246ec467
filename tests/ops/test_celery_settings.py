"""Production Celery settings for acks-late work on Redis: every task has a time limit, and Redis's visibility
timeout (after which an unacknowledged message is redelivered) exceeds the longest of them, so that no task still
running is handed to a second worker. The worker uses the Redis transport that survives a broker drop."""

import json

from tests.ops.test_production_settings import run_python

DESCRIBE_CELERY = """
import json, django
django.setup()
from django.conf import settings
from config.celery import app
app.loader.import_default_modules()
tasks = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
print(json.dumps({
    "visibility_timeout": app.conf.broker_transport_options["visibility_timeout"],
    "acks_late": sorted(name for name, task in tasks.items() if task.acks_late),
    "time_limits": {name: task.time_limit or app.conf.task_time_limit for name, task in tasks.items()},
    "soft_time_limits": {name: task.soft_time_limit or app.conf.task_soft_time_limit for name, task in tasks.items()},
    "prefetch": app.conf.worker_prefetch_multiplier,
    "transport": app.connection_for_write().transport_cls,
}))
"""


def describe_celery(**environment) -> dict:
    result = run_python(DESCRIBE_CELERY, **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_visibility_timeout_exceeds_the_time_limit_of_every_task():
    celery = describe_celery()

    assert "advisories.tasks.release_due_waves" in celery["acks_late"]
    assert all(celery["time_limits"].values()), "every task has a hard time limit"
    assert celery["visibility_timeout"] > max(celery["time_limits"].values())
    for name, soft_limit in celery["soft_time_limits"].items():
        assert 0 < soft_limit < celery["time_limits"][name], name
    assert celery["prefetch"] == 1


def test_settings_refuse_a_visibility_timeout_not_above_the_task_time_limit():
    result = run_python(
        "import django; django.setup()",
        CELERY_TASK_TIME_LIMIT_SECONDS="1200",
        CELERY_VISIBILITY_TIMEOUT_SECONDS="1200",
    )

    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT_SECONDS must exceed CELERY_TASK_TIME_LIMIT_SECONDS" in result.stderr


def test_a_longer_time_limit_is_accepted_with_a_longer_visibility_timeout():
    celery = describe_celery(CELERY_TASK_TIME_LIMIT_SECONDS="4000", CELERY_VISIBILITY_TIMEOUT_SECONDS="7200")

    assert set(celery["time_limits"].values()) == {4000}
    assert celery["visibility_timeout"] == 7200


def test_a_redis_broker_uses_the_transport_that_survives_a_broker_drop():
    assert describe_celery()["transport"] == "config.celery_broker:Transport"
