"""Publications that ride on the range lock's release: one Redis round trip instead of two.

A booking publishes its change after the commit and then releases the lock (DESIGN.md,
step 7). While a lock is held, :class:`~booking_gateway.infra.redis.events.RedisEventPublisher`
puts its message here instead of sending it, and the release script publishes it, in that
order, in the same call. Without a held lock (Redis down, the weakened build) nothing
collects and the publisher sends at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Publication = tuple[str, bytes]

_OUTBOX: ContextVar[list[Publication] | None] = ContextVar("booking_gateway_redis_outbox", default=None)


@contextmanager
def collecting() -> Iterator[list[Publication]]:
    """Collect the publications made in this task (and the tasks it starts) until the block ends."""
    box: list[Publication] = []
    token = _OUTBOX.set(box)
    try:
        yield box
    finally:
        _OUTBOX.reset(token)


def defer(channel: str, payload: bytes) -> bool:
    """Queue a publication on the open outbox; False when none is open (send it now)."""
    box = _OUTBOX.get()
    if box is None:
        return False
    box.append((channel, payload))
    return True
