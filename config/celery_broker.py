"""The Celery broker transport for Redis: kombu's, with a worker that survives a broker dropping mid-task.

When Redis drops, the worker's consumer closes the broken connection twice: `Connection.collect()` first, then
`close()`. kombu's Redis channel begins closing by reading the reply of its pending BRPOP; on a dead connection
that read raises, the first close stops there (the error is ignored) and the channel stays open, while `collect()`
detaches the transport. The second close then restores the unacknowledged messages (an acks-late task running)
through a transport without its connection details and raises AttributeError ("'NoneType' object has no attribute
'hostname'"), which the worker treats as unrecoverable and exits. Here a BRPOP reply that cannot be read while the
channel closes counts as no reply, so the first close completes and the second has nothing left to do.
"""

from queue import Empty

from kombu.transport import redis


class Channel(redis.Channel):
    def _brpop_read(self, **options):
        try:
            return super()._brpop_read(**options)
        except self.connection_errors:
            if self._closing:
                raise Empty() from None
            raise


class Transport(redis.Transport):
    Channel = Channel


def broker_transport(broker_url: str) -> str | None:
    """The transport for a broker URL: ours for Redis, kombu's choice (from the URL's scheme) otherwise."""
    return f"{__name__}:Transport" if broker_url.startswith("redis://") else None
