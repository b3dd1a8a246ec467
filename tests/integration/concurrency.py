"""Run services against each other at the same instant, as concurrent requests and tasks do in production.

Each function runs in its own thread, so with its own database connection (Django opens one per thread), and
all are released together by a barrier. Tests using this need PostgreSQL and `django_db(transaction=True)`: row
locks, deadlock detection and commit order are what is tested, and a test transaction around everything would hide
them (tests/integration/conftest.py skips locally and fails under CI=true without PostgreSQL)."""

import threading
from collections.abc import Callable, Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from core.models import AuditEvent

# Longer than PostgreSQL's deadlock detection (deadlock_timeout, 1 s by default): a thread still waiting after this
# is stuck, not slow.
THREAD_TIMEOUT_SECONDS = 30

# How a service refuses in its normal course; anything else reaching the caller (a deadlock, an IntegrityError, a
# crash) is a failure.
REFUSALS = (ValidationError, PermissionDenied)


def run_together(*functions: Callable[[], object]) -> list:
    """Run each function in its own thread and connection, all released at the same instant by a barrier. Returns,
    in order, each one's result or the exception it raised. Every thread's connection is closed."""
    start = threading.Barrier(len(functions))
    outcomes: list = [None] * len(functions)

    def run(index: int, function) -> None:
        try:
            start.wait()
            outcomes[index] = function()
        except BaseException as error:  # noqa: BLE001 -- returned to the test, which inspects it
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f), daemon=True) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT_SECONDS)
    assert not any(thread.is_alive() for thread in threads), (
        f"a thread is still waiting after {THREAD_TIMEOUT_SECONDS} s"
    )
    return outcomes


def failures(outcomes: Iterable) -> list[BaseException]:
    """The exceptions among `outcomes` that are not a service's normal refusal."""
    return [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, REFUSALS)]


def refusals(outcomes: Iterable) -> list[BaseException]:
    return [o for o in outcomes if isinstance(o, REFUSALS)]


def successes(outcomes: Iterable) -> list:
    return [o for o in outcomes if not isinstance(o, BaseException)]


def recorded_after(action: str, *, target=None, actions: Iterable[str]) -> list[str]:
    """Which of `actions` the audit log recorded after the newest `action` event (on `target`, if given). Events are
    numbered as they are written and every service writes its event while holding its locks, so of two services
    that take a common lock, the one whose event is numbered later acted after the other's change (e.g. signed
    after the removal)."""
    events = AuditEvent.objects.filter(action=action)
    if target is not None:
        events = events.filter(target_type=target._meta.label, target_id=str(target.pk))
    last = events.order_by("-pk").first()
    if last is None:
        return []
    return list(AuditEvent.objects.filter(pk__gt=last.pk, action__in=list(actions)).values_list("action", flat=True))
