"""Availability changes on Redis pub/sub: the publishing side and the payload format.

Payload (compact JSON, orjson), one object per change::

    {"tenant_id": "<uuid>", "resource_id": "<uuid>", "reason": "BOOKED",
     "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z", "version": 7}

``start``/``end`` bound the changed window, RFC 3339 in UTC with a ``Z`` (microseconds when
non-zero), readable in ``redis-cli SUBSCRIBE``; ``version`` is the resource's availability
version after the change. Subscribers ignore unknown fields, so fields can be added.

Publishing is best effort (the port says so): the booking is committed whatever happens here,
and subscribers re-read availability, so a lost event only delays a refresh.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson

from booking_gateway.domain.errors import ValidationFailed
from booking_gateway.domain.ports import AvailabilityChanged, ChangeReason, EventPublisher
from booking_gateway.domain.time_window import TimeWindow, format_instant
from booking_gateway.infra.redis import outbox
from booking_gateway.infra.redis.keys import channel_for

if TYPE_CHECKING:
    from redis.asyncio import Redis

_log = logging.getLogger(__name__)

#: At most one "publish failed" warning per this many seconds.
WARN_EVERY_S = 5.0


class EventDecodeError(ValueError):
    """A payload that is not an availability change in the format above."""


def encode_event(event: AvailabilityChanged) -> bytes:
    return orjson.dumps({
        "tenant_id": str(event.tenant_id),
        "resource_id": str(event.resource_id),
        "reason": event.reason.value,
        "start": format_instant(event.changed.start),
        "end": format_instant(event.changed.end),
        "version": event.version,
    })


def decode_event(payload: bytes | str) -> AvailabilityChanged:
    """Parse a payload; raises :class:`EventDecodeError` (a ``ValueError``) when malformed."""
    try:
        data = orjson.loads(payload)
        if not isinstance(data, dict):
            raise EventDecodeError("an availability event is a JSON object")
        version = data["version"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise EventDecodeError("version is not an integer")
        return AvailabilityChanged(
            tenant_id=UUID(_text(data, "tenant_id")),
            resource_id=UUID(_text(data, "resource_id")),
            reason=ChangeReason(_text(data, "reason")),
            changed=TimeWindow(_instant(data, "start"), _instant(data, "end")),
            version=version,
        )
    except EventDecodeError:
        raise
    except (orjson.JSONDecodeError, KeyError, ValueError, ValidationFailed) as err:
        raise EventDecodeError(f"not an availability event: {err}") from err


def _text(data: dict[str, Any], field: str) -> str:
    value = data[field]
    if not isinstance(value, str):
        raise EventDecodeError(f"{field} is not a string")
    return value


def _instant(data: dict[str, Any], field: str) -> datetime:
    value = datetime.fromisoformat(_text(data, field))
    if value.tzinfo is None:
        raise EventDecodeError(f"{field} has no UTC offset")
    return value


class RedisEventPublisher:
    """The :class:`~booking_gateway.domain.ports.EventPublisher` port: PUBLISH, never raise.

    The channel is ``<prefix>:avail:{<tenant>:<resource>}`` (:func:`channel_for`). ``client`` is
    owned by the caller.
    """

    def __init__(self, client: Redis, *, prefix: str = "bg", command_timeout_ms: int = 500) -> None:
        self._client = client
        self._prefix = prefix
        self._timeout_s = command_timeout_ms / 1000
        self._last_warning_at: float | None = None

    async def publish(self, event: AvailabilityChanged) -> None:
        channel = channel_for(self._prefix, event.tenant_id, event.resource_id)
        try:
            payload = encode_event(event)
            if outbox.defer(channel, payload):  # goes out with the range lock's release
                return
            async with asyncio.timeout(self._timeout_s):
                await self._client.publish(channel, payload)
        except Exception as err:  # best effort by contract: the booking is already committed
            now = time.monotonic()
            if self._last_warning_at is None or now - self._last_warning_at >= WARN_EVERY_S:
                self._last_warning_at = now
                _log.warning("could not publish an availability change on %s (%s: %s); "
                             "live subscribers miss it until their next refresh",
                             channel, type(err).__name__, err)


def _implements_port(publisher: RedisEventPublisher) -> EventPublisher:
    """Never called: mypy checks here that the adapter satisfies the port."""
    return publisher
