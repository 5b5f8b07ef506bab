"""Availability events on real Redis pub/sub: channel names, payload, decoding, best effort."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from booking_gateway.domain.ports import AvailabilityChanged, ChangeReason
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.redis.events import (
    EventDecodeError,
    RedisEventPublisher,
    decode_event,
    encode_event,
)
from booking_gateway.infra.redis.keys import channel_for, channel_pattern
from tests.integration.redis_fixtures import redis_client, unique_prefix


def an_event(**changes: object) -> AvailabilityChanged:
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    fields: dict[str, object] = {
        "tenant_id": uuid.uuid4(), "resource_id": uuid.uuid4(), "reason": ChangeReason.BOOKED,
        "changed": TimeWindow(start, start + timedelta(minutes=90, microseconds=7)), "version": 7,
    }
    return AvailabilityChanged(**(fields | changes))  # type: ignore[arg-type]


@pytest.fixture
async def client() -> AsyncIterator[Redis]:
    async with redis_client() as redis:
        yield redis


async def next_message(pubsub: PubSub) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                return message


async def test_a_published_change_reaches_a_subscriber(client: Redis) -> None:
    prefix, event = unique_prefix(), an_event()
    channel = channel_for(prefix, event.tenant_id, event.resource_id)
    assert channel == f"{prefix}:avail:{{{event.tenant_id}:{event.resource_id}}}"
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(channel)
        await RedisEventPublisher(client, prefix=prefix).publish(event)
        message = await next_message(pubsub)
    finally:
        await pubsub.aclose()
    assert message["channel"] == channel.encode()
    payload = message["data"]
    assert isinstance(payload, bytes)
    assert decode_event(payload) == event
    assert orjson.loads(payload) == {
        "tenant_id": str(event.tenant_id), "resource_id": str(event.resource_id), "reason": "BOOKED",
        "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:30:00.000007Z", "version": 7,
    }


async def test_a_pattern_subscriber_sees_every_resource_of_its_deployment(client: Redis) -> None:
    prefix = unique_prefix()
    events = [an_event(reason=ChangeReason.CANCELLED), an_event(reason=ChangeReason.RESCHEDULED, version=1)]
    publisher = RedisEventPublisher(client, prefix=prefix)
    pubsub = client.pubsub()
    try:
        await pubsub.psubscribe(channel_pattern(prefix))
        await RedisEventPublisher(client, prefix=unique_prefix()).publish(an_event())  # another deployment
        for event in events:
            await publisher.publish(event)
        received = [await next_message(pubsub) for _ in events]
    finally:
        await pubsub.aclose()
    assert [decode_event(m["data"]) for m in received] == events


async def test_publishing_never_raises_when_redis_is_down(caplog: pytest.LogCaptureFixture) -> None:
    async with redis_client("redis://127.0.0.1:1/0") as dead:
        publisher = RedisEventPublisher(dead, command_timeout_ms=200)
        with caplog.at_level(logging.WARNING, logger="booking_gateway.infra.redis.events"):
            await publisher.publish(an_event())
            await publisher.publish(an_event())
    warnings = [r for r in caplog.records if "could not publish" in r.getMessage()]
    assert len(warnings) == 1  # rate-limited


def test_decoding_accepts_offsets_and_ignores_unknown_fields() -> None:
    event = an_event()
    data = orjson.loads(encode_event(event))
    data |= {"start": "2026-12-01T10:00:00+01:00", "future_field": [1, 2]}
    assert decode_event(orjson.dumps(data)) == event
    assert decode_event(encode_event(event).decode()) == event


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason": "EXPLODED"}, "not an availability event"),
        ({"version": True}, "version"),
        ({"version": "7"}, "version"),
        ({"tenant_id": 12}, "tenant_id"),
        ({"resource_id": "not-a-uuid"}, "not an availability event"),
        ({"start": "2026-12-01T09:00:00"}, "UTC offset"),
        ({"end": "2026-12-01T08:00:00Z"}, "not an availability event"),
        ({"start": "yesterday"}, "not an availability event"),
    ],
)
def test_decoding_refuses_malformed_payloads(change: dict[str, object], message: str) -> None:
    data = orjson.loads(encode_event(an_event())) | change
    with pytest.raises(EventDecodeError, match=message):
        decode_event(orjson.dumps(data))


@pytest.mark.parametrize("payload", [b"", b"{", b"[1]", b'{"tenant_id": "x"}'])
def test_decoding_refuses_what_is_not_an_event(payload: bytes) -> None:
    with pytest.raises(EventDecodeError):
        decode_event(payload)
