"""Redis adapters: the range lock and the availability-change publisher.

Both take a ``redis.asyncio`` client owned by the caller, and share key and channel names
(:mod:`~booking_gateway.infra.redis.keys`) under a deployment prefix, so several deployments
can share one Redis.
"""

from booking_gateway.infra.redis.events import (
    EventDecodeError,
    RedisEventPublisher,
    decode_event,
    encode_event,
)
from booking_gateway.infra.redis.keys import channel_for, channel_pattern
from booking_gateway.infra.redis.range_lock import RedisLease, RedisRangeLock

__all__ = [
    "EventDecodeError",
    "RedisEventPublisher",
    "RedisLease",
    "RedisRangeLock",
    "channel_for",
    "channel_pattern",
    "decode_event",
    "encode_event",
]
