"""The one clock of every embargo decision: the database's.

Workers and web nodes may disagree about the time by seconds or minutes (a stopped NTP daemon, a VM resumed from
a snapshot); the database is one server. So whether a wave or cohort is due, and the instant its release records,
are read from PostgreSQL (`statement_timestamp()`), never from the process that happens to run the task. The
process's own clock is compared with it and reported when it drifts (`clock_skew_seconds`: `/readyz`, the release
heartbeat, `release_pipeline_status`).

SQLite runs inside this process, so there the process clock is the database's clock. The test settings choose the
process clock (FOREWARN_EMBARGO_CLOCK=process) because tests move time with time_machine, which cannot move
PostgreSQL's clock; tests/advisories/test_embargo_clock.py runs the release on the database clock with the process
clock 60 s off, and the integration tests' workers run the local settings, on the database clock.
"""

import time
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, Expression, Value
from django.db.models.functions import Now
from django.utils import timezone

DATABASE = "database"


def _database_clock_in_use() -> bool:
    return settings.FOREWARN_EMBARGO_CLOCK == DATABASE and connection.vendor == "postgresql"


def embargo_now() -> datetime:
    """Now, by the clock embargo decisions use: the database server's (UTC)."""
    if not _database_clock_in_use():
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        return cursor.fetchone()[0].astimezone(UTC)


def embargo_now_expression() -> Expression:
    """`embargo_now()` as an SQL expression, for a query that reads the clock along with its rows (PostgreSQL's
    `Now()` is `statement_timestamp()`): no round trip of its own."""
    if not _database_clock_in_use():
        return Value(timezone.now(), output_field=DateTimeField())
    return Now()


def clock_skew_seconds(database=connection) -> float | None:
    """This process's clock minus the database's, in seconds (positive: this node is fast), measured at the middle
    of one round trip; None where embargoes follow the process clock (SQLite, the test settings)."""
    if settings.FOREWARN_EMBARGO_CLOCK != DATABASE or database.vendor != "postgresql":
        return None
    with database.cursor() as cursor:
        before = time.time()
        cursor.execute("SELECT extract(epoch FROM clock_timestamp())")
        after = time.time()
        database_seconds = float(cursor.fetchone()[0])
    return round((before + after) / 2 - database_seconds, 3)
