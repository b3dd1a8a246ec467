"""Readiness checks for `/readyz`: can this process reach the database, the broker, the cache and the private
storage, and does its clock agree with the database's? Each check runs in its own thread with a short timeout, all
at once, so that one frozen dependency costs at most READINESS_TIMEOUT_SECONDS and never blocks the web worker
answering the probe."""

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from kombu import Connection
from kombu.transport.redis import PRIORITY_STEPS, Channel

from core.clock import clock_skew_seconds
from core.storage import private_storage

logger = logging.getLogger(__name__)

# Every network call of a check gives up after this long; the whole answer comes within READINESS_TIMEOUT_SECONDS.
CHECK_TIMEOUT_SECONDS = 1
READINESS_TIMEOUT_SECONDS = 1.5
# The storage check writes and deletes a small file under this folder (never served, never left behind).
STORAGE_PROBE_FOLDER = ".forewarn-readiness"
REDIS_CACHE_BACKEND = "django.core.cache.backends.redis.RedisCache"


def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS)


def _ping_redis(url: str) -> None:
    client = _redis_client(url)
    try:
        client.ping()
    finally:
        client.close()


def check_database() -> None:
    """A query on a connection of its own (closed afterwards), with a connect timeout on PostgreSQL. A server that
    accepts the connection and then never answers is bounded by READINESS_TIMEOUT_SECONDS."""
    database = connections.create_connection(DEFAULT_DB_ALIAS)
    if database.vendor == "postgresql":
        options = {**database.settings_dict.get("OPTIONS", {}), "connect_timeout": CHECK_TIMEOUT_SECONDS}
        database.settings_dict = {**database.settings_dict, "OPTIONS": options}
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        database.close()


def check_clock() -> None:
    """This node's clock against the database's: a node off by more than FOREWARN_MAX_CLOCK_SKEW_SECONDS would
    show wrong times and judge agreement and suspension ends wrongly, so it leaves the load balancer."""
    database = connections.create_connection(DEFAULT_DB_ALIAS)
    if database.vendor == "postgresql":
        options = {**database.settings_dict.get("OPTIONS", {}), "connect_timeout": CHECK_TIMEOUT_SECONDS}
        database.settings_dict = {**database.settings_dict, "OPTIONS": options}
    try:
        skew = clock_skew_seconds(database)
    except DatabaseError:
        return  # the database check reports an unreachable database; the clock is known off only when measured
    finally:
        database.close()
    if skew is not None and abs(skew) > settings.FOREWARN_MAX_CLOCK_SKEW_SECONDS:
        raise RuntimeError(f"this node's clock is {skew:+.3f} s off the database's")


def check_broker() -> None:
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        _ping_redis(settings.CELERY_BROKER_URL)
        return
    broker = Connection(
        settings.CELERY_BROKER_URL,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=CHECK_TIMEOUT_SECONDS)
    finally:
        broker.release()


def check_cache() -> None:
    """Redis caches answer a PING with our timeouts (Django's client has none); any other cache a set and a get."""
    cache = settings.CACHES["default"]
    if cache["BACKEND"] == REDIS_CACHE_BACKEND:
        locations = cache["LOCATION"]
        for location in [locations] if isinstance(locations, str) else locations:
            _ping_redis(location)
        return
    probe = f"forewarn-readiness-{uuid.uuid4().hex}"
    caches["default"].set(probe, "ok", timeout=10)
    if caches["default"].get(probe) != "ok":
        raise RuntimeError("the cache did not return what was just stored")
    caches["default"].delete(probe)


def check_storage() -> None:
    """A real write and delete: a full or read-only store fails here, as an upload would."""
    storage = private_storage()
    if isinstance(storage, FileSystemStorage):
        # A missing folder would be created by the write; here it means the volume is not mounted.
        location = Path(storage.location)
        if not location.is_dir():
            raise OSError(f"the private files folder {location} does not exist")
    name = storage.save(f"{STORAGE_PROBE_FOLDER}/{uuid.uuid4().hex}", ContentFile(b"ready\n"))
    storage.delete(name)


READINESS_CHECKS = {
    "database": check_database,
    "clock": check_clock,
    "broker": check_broker,
    "cache": check_cache,
    "storage": check_storage,
}


def _run(name: str, check) -> None:
    try:
        check()
    except Exception:
        logger.exception("Readiness check %s failed", name)
        raise


# Threads kept from one probe to the next, so that what a storage keeps per thread (an S3 client) is reused; twice
# as many as checks, so that checks still ending on their own timeouts leave room for the next probe.
_CHECK_THREADS = ThreadPoolExecutor(max_workers=2 * len(READINESS_CHECKS), thread_name_prefix="readiness")


def readiness() -> dict[str, bool]:
    """Run every check at once; True for each that passed within READINESS_TIMEOUT_SECONDS. A failure is logged
    with its cause (never shown to callers); a check still running at the deadline counts as failed and is left
    to end on its own timeouts."""
    futures = {name: _CHECK_THREADS.submit(_run, name, check) for name, check in READINESS_CHECKS.items()}
    done, _ = wait(futures.values(), timeout=READINESS_TIMEOUT_SECONDS)
    results = {}
    for name, future in futures.items():
        if future not in done:
            logger.error("Readiness check %s did not answer within %s s", name, READINESS_TIMEOUT_SECONDS)
        results[name] = future in done and future.exception() is None
    return results


def broker_queue_depth(queue: str) -> int | None:
    """Messages waiting in a Celery queue on a Redis broker (every priority list of it); None for other brokers."""
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return None
    client = _redis_client(settings.CELERY_BROKER_URL)
    try:
        keys = [queue] + [f"{queue}{Channel.sep}{step}" for step in PRIORITY_STEPS if step]
        return sum(client.llen(key) for key in keys)
    finally:
        client.close()
