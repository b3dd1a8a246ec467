"""Readiness checks for `/readyz`: can this process reach the database, the broker and the private storage?"""

import logging
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import connection
from kombu import Connection
from kombu.transport.redis import PRIORITY_STEPS, Channel

from core.storage import private_storage

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3
# Any other storage: asking whether a file that never exists exists proves the store answers.
STORAGE_PROBE_NAME = ".forewarn-readiness-probe"


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_broker() -> None:
    broker = Connection(
        settings.CELERY_BROKER_URL,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=CHECK_TIMEOUT_SECONDS)
    finally:
        broker.release()


def check_storage() -> None:
    storage = private_storage()
    if isinstance(storage, FileSystemStorage):
        # A missing folder would be created by the first upload; here it means the volume is not mounted.
        location = Path(storage.location)
        if not location.is_dir():
            raise OSError(f"the private files folder {location} does not exist")
        return
    bucket = getattr(storage, "bucket", None)
    if bucket is not None:
        # Object storage: the bucket exists and our credentials may list it (a missing object would not tell).
        bucket.meta.client.head_bucket(Bucket=bucket.name)
        return
    storage.exists(STORAGE_PROBE_NAME)


READINESS_CHECKS = {"database": check_database, "broker": check_broker, "storage": check_storage}


def readiness() -> dict[str, bool]:
    """Run every check; True for each that passed. A failure is logged with its cause (never shown to callers)."""
    results = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception:
            logger.exception("Readiness check %s failed", name)
            results[name] = False
        else:
            results[name] = True
    return results


def broker_queue_depth(queue: str) -> int | None:
    """Messages waiting in a Celery queue on a Redis broker (every priority list of it); None for other brokers."""
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return None
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        keys = [queue] + [f"{queue}{Channel.sep}{step}" for step in PRIORITY_STEPS if step]
        return sum(client.llen(key) for key in keys)
    finally:
        client.close()
