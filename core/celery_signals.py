"""What the program records from Celery's own signals (connected in CoreConfig.ready, so in every worker)."""

import logging

from celery.signals import task_revoked
from django.db import DatabaseError

from core.services import record_skipped_tick

logger = logging.getLogger(__name__)


@task_revoked.connect(dispatch_uid="core.record_expired_task")
def record_expired_task(sender=None, request=None, expired=False, **kwargs):
    """A periodic task's message that expired before a worker took it is a skipped tick: never silent."""
    if not expired:
        return
    name = getattr(sender, "name", None) or getattr(request, "task", "unknown")
    try:
        record_skipped_tick(name=name)
    except DatabaseError:
        # The worker's consumer must go on; the warning in the log is the record then.
        logger.warning("Periodic task %s expired unrun; the database did not take the record", name)
