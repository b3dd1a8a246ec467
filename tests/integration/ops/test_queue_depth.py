"""release_pipeline_status reads the depth of each Celery queue (releases and the default one) from the Redis broker,
every priority included."""

import json
from io import StringIO

import pytest
import redis
from celery import Celery
from django.core.management import call_command
from django.test import override_settings

from advisories.tasks import RELEASE_HEARTBEAT, release_due_waves, send_release_notices
from core.services import record_heartbeat
from tests.integration.ops.conftest import SHARED_REDIS_URL

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

QUEUED = 5


def test_pipeline_status_reports_the_number_of_messages_waiting_in_the_redis_queue():
    broker = redis.Redis.from_url(SHARED_REDIS_URL)
    broker.flushdb()
    record_heartbeat(name=RELEASE_HEARTBEAT)
    # A producer of its own, not the current app (the test settings run tasks eagerly, and other tests rely on
    # that); no worker listens, so the messages stay queued.
    producer = Celery("queue-depth-test", broker=SHARED_REDIS_URL, set_as_current=False)
    for number in range(QUEUED):
        producer.send_task(send_release_notices.name, args=[[number]], priority=6 if number == 0 else None)
    producer.send_task(release_due_waves.name, queue="releases")
    producer.close()
    out = StringIO()

    with override_settings(CELERY_BROKER_URL=SHARED_REDIS_URL, CELERY_BROKER_TRANSPORT_OPTIONS={}):
        call_command("release_pipeline_status", "--json", stdout=out)

    assert json.loads(out.getvalue())["queue_depths"] == {"releases": 1, "celery": QUEUED}
    broker.flushdb()
