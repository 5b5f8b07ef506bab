"""The live hub against the real Redis: coalescing, fan-out by window, channel lifecycle, reconnects.

Availability reads are a fake that counts them (the database is not the point here); the
changes are published by the real publisher on the real channels.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from booking_gateway.domain.model import Availability
from booking_gateway.domain.ports import AvailabilityChanged, ChangeReason
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.redis.events import RedisEventPublisher
from booking_gateway.infra.redis.keys import channel_for
from booking_gateway.live.hub import HubConfig, Listener, LiveHub
from booking_gateway.live.routing import LiveEvent
from tests.integration.redis_fixtures import (
    REDIS_URL,
    TcpProxy,
    redis_client,
    redis_host_port,
    silent_server,
    unique_prefix,
)

T0 = datetime(2027, 6, 1, tzinfo=UTC)
DAY = TimeWindow(T0, T0 + timedelta(days=1))
MORNING = TimeWindow(T0 + timedelta(hours=8), T0 + timedelta(hours=12))
EVENING = TimeWindow(T0 + timedelta(hours=18), T0 + timedelta(hours=22))


class FakeStore:
    """Availability reads, counted; ``version`` per resource is what the "database" holds."""

    def __init__(self) -> None:
        self.reads: list[tuple[uuid.UUID, TimeWindow]] = []
        self.version: dict[uuid.UUID, int] = {}

    async def read(self, tenant_id: uuid.UUID, resource_id: uuid.UUID, window: TimeWindow) -> Availability:
        self.reads.append((resource_id, window))
        return Availability.from_bookings(resource_id, window, [], self.version.get(resource_id, 0))


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    async with redis_client() as client:
        yield client


async def until(check: Callable[[], bool | Awaitable[bool]], wait_s: float = 5.0) -> None:
    async with asyncio.timeout(wait_s):
        while True:
            outcome = check()
            if outcome if isinstance(outcome, bool) else await outcome:
                return
            await asyncio.sleep(0.01)


async def started(url: str, store: FakeStore, prefix: str, coalesce_s: float = 0.02) -> LiveHub:
    hub = LiveHub(url, store.read, prefix=prefix,
                  config=HubConfig(coalesce_s=coalesce_s, ping_interval_s=1.0, backoff_max_s=0.2))
    hub.start()
    await until(lambda: hub.stats().redis_connected)
    return hub


async def take(listener: Listener, count: int, wait_s: float = 5.0) -> list[LiveEvent]:
    got: list[LiveEvent] = []
    async with asyncio.timeout(wait_s):
        async for event in listener.events():
            got.append(event)
            if len(got) == count:
                return got
    raise AssertionError(f"the listener ended after {got}")


def booked(tenant: uuid.UUID, resource: uuid.UUID, start_h: float, end_h: float, version: int,
           reason: ChangeReason = ChangeReason.BOOKED) -> AvailabilityChanged:
    return AvailabilityChanged(tenant, resource, reason, TimeWindow(
        T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h)), version)


async def numsub(redis: Redis, channel: str) -> int:
    return int((await redis.pubsub_numsub(channel))[0][1])


async def test_a_burst_costs_one_read_per_subscribed_window_not_per_listener(redis: Redis) -> None:
    store, prefix = FakeStore(), unique_prefix()
    tenant, room = uuid.uuid4(), uuid.uuid4()
    hub = await started(REDIS_URL, store, prefix, coalesce_s=0.05)
    publisher = RedisEventPublisher(redis, prefix=prefix)
    try:
        async with AsyncExitStack() as stack:
            day = [await stack.enter_async_context(hub.listen(tenant, [room], DAY)) for _ in range(20)]
            morning = [await stack.enter_async_context(hub.listen(tenant, [room], MORNING)) for _ in range(10)]
            assert await numsub(redis, channel_for(prefix, tenant, room)) == 1
            store.version[room] = 10
            for version in range(1, 11):  # ten changes in one burst, each touching both windows
                await publisher.publish(booked(tenant, room, 9 + version / 10, 9.05 + version / 10, version))
            received = await asyncio.gather(*(take(listener, 10) for listener in day + morning))
    finally:
        await hub.stop()
    assert sorted(w for _, w in store.reads) == sorted([DAY, MORNING])
    for events in received:
        assert [e.reason for e in events] == [ChangeReason.BOOKED] * 10
        assert all(e.version == 10 for e in events)
        assert events[0].changed == TimeWindow(T0 + timedelta(hours=9.1), T0 + timedelta(hours=9.15))
    assert received[0][0] is received[1][0], "one event object per window, shared by its listeners"


async def test_changes_outside_the_window_send_nothing_and_read_nothing(redis: Redis) -> None:
    store, prefix = FakeStore(), unique_prefix()
    tenant, room = uuid.uuid4(), uuid.uuid4()
    hub = await started(REDIS_URL, store, prefix)
    publisher = RedisEventPublisher(redis, prefix=prefix)
    try:
        async with hub.listen(tenant, [room], MORNING) as listener:
            await publisher.publish(booked(tenant, room, 18, 19, 1))  # evening
            await publisher.publish(booked(tenant, room, 7, 8, 2))  # ends where the window starts
            await publisher.publish(booked(uuid.uuid4(), room, 9, 10, 3))  # another tenant's channel
            await asyncio.sleep(0.2)
            assert store.reads == []
            store.version[room] = 4
            await publisher.publish(booked(tenant, room, 11, 13, 4, ChangeReason.CANCELLED))
            (event,) = await take(listener, 1)
    finally:
        await hub.stop()
    assert (event.reason, event.changed, event.version) == (
        ChangeReason.CANCELLED, TimeWindow(T0 + timedelta(hours=11), T0 + timedelta(hours=12)), 4)
    assert store.reads == [(room, MORNING)]


async def test_a_channel_is_subscribed_while_it_has_local_listeners(redis: Redis) -> None:
    store, prefix = FakeStore(), unique_prefix()
    tenant, room, desk = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    hub = await started(REDIS_URL, store, prefix)
    rooms, desks = channel_for(prefix, tenant, room), channel_for(prefix, tenant, desk)
    try:
        async with hub.listen(tenant, [room, desk], DAY):
            # in effect at Redis as soon as listen() is entered: no polling needed
            assert (await numsub(redis, rooms), await numsub(redis, desks)) == (1, 1)
            async with hub.listen(tenant, [room], MORNING):
                assert await numsub(redis, rooms) == 1, "one subscriber connection per process"
                assert hub.stats().listeners == 2
            assert hub.stats().channels == 2
        stats = hub.stats()
        await until(lambda: _zero(redis, rooms, desks))
    finally:
        await hub.stop()
    assert (stats.listeners, stats.channels, stats.redis_channels) == (0, 0, 0)


async def test_every_listen_returns_only_once_its_channel_is_subscribed_at_redis(redis: Redis) -> None:
    store, prefix = FakeStore(), unique_prefix()
    tenant = uuid.uuid4()
    hub = await started(REDIS_URL, store, prefix)
    checks = asyncio.Semaphore(20)
    async with redis_client() as checker:

        async def one(resource: uuid.UUID) -> int:
            async with hub.listen(tenant, [resource], DAY), checks:
                return await numsub(checker, channel_for(prefix, tenant, resource))

        try:
            counts = await asyncio.gather(*(one(uuid.uuid4()) for _ in range(200)))
        finally:
            await hub.stop()
    assert counts == [1] * 200


async def _zero(redis: Redis, *channels: str) -> bool:
    return [await numsub(redis, c) for c in channels] == [0] * len(channels)


async def test_a_listener_is_removed_when_its_body_raises(redis: Redis) -> None:
    store, prefix = FakeStore(), unique_prefix()
    tenant, room = uuid.uuid4(), uuid.uuid4()
    hub = await started(REDIS_URL, store, prefix)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            async with hub.listen(tenant, [room], DAY):
                raise RuntimeError("boom")
        stats = hub.stats()
        await until(lambda: _zero(redis, channel_for(prefix, tenant, room)))
    finally:
        await hub.stop()
    assert (stats.listeners, stats.channels, stats.redis_channels) == (0, 0, 0)


async def test_after_the_subscriber_connection_comes_back_every_listener_gets_a_snapshot(
        redis: Redis) -> None:
    store, prefix = FakeStore(), unique_prefix()
    tenant, room, desk = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    proxy = TcpProxy(*redis_host_port())
    await proxy.restore()
    hub = await started(proxy.url(), store, prefix)
    publisher = RedisEventPublisher(redis, prefix=prefix)
    try:
        async with hub.listen(tenant, [room, desk], DAY) as both, hub.listen(tenant, [room], MORNING) as one:
            await proxy.cut()
            await until(lambda: not hub.stats().redis_connected)
            store.version[room] = 7  # committed while the subscriber was away: its event is lost
            await publisher.publish(booked(tenant, room, 9, 10, 7))
            await proxy.restore()
            snapshots = await take(both, 2) + await take(one, 1)
            assert hub.stats().redis_connected
            # and live again afterwards
            store.version[room] = 8
            await publisher.publish(booked(tenant, room, 10, 11, 8))
            after = await take(one, 1)
    finally:
        await hub.stop()
        await proxy.cut()
    assert [e.reason for e in snapshots] == [ChangeReason.SNAPSHOT] * 3
    assert {(e.resource_id, e.changed, e.version) for e in snapshots} == {
        (room, DAY, 7), (desk, DAY, 0), (room, MORNING, 7)}
    assert [(e.reason, e.version) for e in after] == [(ChangeReason.BOOKED, 8)]


async def test_a_listener_that_does_not_read_holds_a_bounded_backlog_ending_in_the_latest_state(
        redis: Redis) -> None:
    store, prefix = FakeStore(), unique_prefix()
    tenant, room, desk = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    hub = LiveHub(REDIS_URL, store.read, prefix=prefix, config=HubConfig(coalesce_s=0, buffer_per_resource=4))
    hub.start()
    await until(lambda: hub.stats().redis_connected)
    publisher = RedisEventPublisher(redis, prefix=prefix)
    try:
        async with hub.listen(tenant, [room, desk], DAY) as slow, hub.listen(tenant, [room], DAY) as fast:
            seen: list[LiveEvent] = []
            for version in range(1, 41):
                store.version[room] = version
                await publisher.publish(booked(tenant, room, version / 4, version / 4 + 0.25, version))
                seen += await take(fast, 1)  # one change at a time, so one read per change
            await publisher.publish(booked(tenant, desk, 1, 2, 1))
            await until(lambda: len(slow.mailbox) >= 5)
            assert len(slow.mailbox) <= 4 + 1, "at most buffer_per_resource per resource"
            backlog = await take(slow, len(slow.mailbox))
    finally:
        await hub.stop()
    assert [e.version for e in seen] == list(range(1, 41)), "a reader that keeps up gets every change"
    rooms = [e for e in backlog if e.resource_id == room]
    assert rooms[-1].version == 40
    assert rooms[0].changed.start == T0 + timedelta(hours=0.25), "what changed while folded is kept"
    assert [e.resource_id for e in backlog].count(desk) == 1
    assert slow.mailbox.folded > 0


async def test_a_black_holed_redis_neither_blocks_listeners_nor_shutdown(
        caplog: pytest.LogCaptureFixture) -> None:
    store = FakeStore()
    async with silent_server() as url:
        hub = LiveHub(url, store.read, prefix=unique_prefix(), config=HubConfig(ping_interval_s=0.3))
        with caplog.at_level(logging.WARNING, logger="booking_gateway.live.subscriber"):
            hub.start()
            async with asyncio.timeout(2):
                async with hub.listen(uuid.uuid4(), [uuid.uuid4()], DAY):
                    assert not hub.stats().redis_connected
                await until(lambda: "not established (TimeoutError" in caplog.text)
                await hub.stop()
    assert hub.stats().tasks == 0


async def test_stopping_the_hub_ends_every_listener() -> None:
    store = FakeStore()
    hub = await started(REDIS_URL, store, unique_prefix())
    async with hub.listen(uuid.uuid4(), [uuid.uuid4()], DAY) as listener:
        pending = asyncio.ensure_future(take(listener, 1))
        await asyncio.sleep(0.05)
        await hub.stop()
        with pytest.raises(AssertionError, match="ended"):
            await pending
    assert hub.stats().tasks == 0
