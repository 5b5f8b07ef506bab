"""The range lock's economies: a waiter re-checks instead of waiting out a taken window, a
waiter blocked by a hold of its own process wakes at that hold's release instead of polling,
and the changes a holder publishes go out with its release, in one round trip."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from booking_gateway.domain.ports import (
    AvailabilityChanged,
    ChangeReason,
    Claim,
    ConflictSpace,
    LockAbandoned,
)
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.redis.events import RedisEventPublisher, decode_event
from booking_gateway.infra.redis.keys import channel_for, lock_key
from booking_gateway.infra.redis.range_lock import LOCAL_WAIT_CAP_MS, RedisRangeLock
from tests.integration.redis_fixtures import delete_prefixed, redis_client, unique_prefix

T0 = datetime(2027, 9, 1, 9, tzinfo=UTC)


@pytest.fixture
async def client() -> AsyncIterator[Redis]:
    async with redis_client() as c:
        yield c


@pytest.fixture
async def prefix(client: Redis) -> AsyncIterator[str]:
    p = unique_prefix()
    yield p
    await delete_prefixed(client, p)


def space(tenant: uuid.UUID, resource: uuid.UUID, start_h: float, end_h: float) -> ConflictSpace:
    return ConflictSpace.of(tenant, Claim(resource, TimeWindow(T0 + timedelta(hours=start_h),
                                                               T0 + timedelta(hours=end_h))))


async def test_a_waiter_that_no_longer_wants_the_lock_gives_up_at_once(client: Redis, prefix: str) -> None:
    lock = RedisRangeLock(client, prefix=prefix, wait_ms=5000, ttl_ms=10_000)
    tenant, room = uuid.uuid4(), uuid.uuid4()
    asked = 0

    async def still_wanted() -> bool:
        nonlocal asked
        asked += 1
        return asked < 3

    async with lock.hold(space(tenant, room, 9, 10)):
        started = asyncio.get_running_loop().time()
        with pytest.raises(LockAbandoned):
            async with lock.hold(space(tenant, room, 9.5, 11), still_wanted=still_wanted):
                pytest.fail("the waiter must not get the lock while the holder holds it")
        waited = asyncio.get_running_loop().time() - started
    assert asked == 3
    assert waited < 1.0, "it gave up long before the 5 s wait"
    assert await client.zcard(lock_key(prefix, tenant, room)) == 0, "nothing of the waiter is left"


class Asked:
    """A still_wanted callback that counts its calls and answers ``wanted``."""

    def __init__(self, wanted: bool = True) -> None:
        self.wanted = wanted
        self.times = 0

    async def __call__(self) -> bool:
        self.times += 1
        return self.wanted


async def test_a_waiter_blocked_by_its_own_process_wakes_at_the_release(client: Redis, prefix: str) -> None:
    lock = RedisRangeLock(client, prefix=prefix, wait_ms=2000)
    tenant, room = uuid.uuid4(), uuid.uuid4()
    loop = asyncio.get_running_loop()
    asked = Asked()
    granted_at: list[float] = []

    async def waiter() -> None:
        async with lock.hold(space(tenant, room, 9.5, 10.5), still_wanted=asked) as lease:
            assert lease.held
            granted_at.append(loop.time())

    async with lock.hold(space(tenant, room, 9, 10)):
        task = asyncio.create_task(waiter())
        await asyncio.sleep(0.04)  # polling would have re-checked 3-5 times by now
        assert not granted_at
        assert asked.times == 0
    released_at = loop.time()
    await task
    assert asked.times == 1, "one re-check, right after the release"
    assert granted_at[0] - released_at < 0.02
    assert await client.zcard(lock_key(prefix, tenant, room)) == 0


async def test_a_local_waiter_gives_up_after_the_release_when_its_window_is_gone(client: Redis,
                                                                              prefix: str) -> None:
    lock = RedisRangeLock(client, prefix=prefix, wait_ms=2000)
    tenant, room = uuid.uuid4(), uuid.uuid4()
    asked = Asked(wanted=False)  # the holder booked the window

    async def waiter() -> None:
        async with lock.hold(space(tenant, room, 9.5, 10.5), still_wanted=asked):
            pytest.fail("the waiter said it no longer wants the lock")

    async with lock.hold(space(tenant, room, 9, 10)):
        task = asyncio.create_task(waiter())
        await asyncio.sleep(0.02)
    with pytest.raises(LockAbandoned):
        await task
    assert asked.times == 1


async def test_a_stalled_local_holder_does_not_keep_a_waiter_from_redis(client: Redis, prefix: str) -> None:
    """The holder's entry expired in Redis (its body stalled past the TTL): after one capped
    local wait the waiter asks Redis, which grants the window, as it would to another process."""
    now = [1_800_000_000_000]
    lock = RedisRangeLock(client, prefix=prefix, wait_ms=2000, ttl_ms=1000, now_ms=lambda: now[0],
                          auto_extend=False)
    tenant, room = uuid.uuid4(), uuid.uuid4()
    loop = asyncio.get_running_loop()
    asked = Asked()
    async with lock.hold(space(tenant, room, 9, 10)):
        now[0] += 1000
        started = loop.time()
        async with lock.hold(space(tenant, room, 9, 10), still_wanted=asked) as second:
            assert second.held
        waited = loop.time() - started
    assert asked.times == 1
    assert LOCAL_WAIT_CAP_MS / 1000 * 0.9 <= waited < 0.5


async def test_known_holds_are_awaited_only_when_they_overlap(client: Redis, prefix: str) -> None:
    lock = RedisRangeLock(client, prefix=prefix, wait_ms=2000)
    tenant, room, other_room = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    loop = asyncio.get_running_loop()

    async with lock.hold(space(tenant, room, 9, 10)):
        started = loop.time()
        await lock.await_known_holds(space(tenant, room, 10, 11))  # adjacent
        await lock.await_known_holds(space(tenant, other_room, 9, 10))  # another resource
        assert loop.time() - started < 0.01, "nothing overlapped: no wait"

        waiting = asyncio.create_task(lock.await_known_holds(space(tenant, room, 9.5, 10.5)))
        await asyncio.sleep(0.02)
        assert not waiting.done(), "an overlapping hold of this process is in flight"
    released_at = loop.time()
    await waiting
    assert loop.time() - released_at < 0.01, "it returned at the release"


async def test_known_holds_are_awaited_for_a_bounded_time(client: Redis, prefix: str) -> None:
    lock = RedisRangeLock(client, prefix=prefix, wait_ms=2000)
    tenant, room = uuid.uuid4(), uuid.uuid4()
    loop = asyncio.get_running_loop()
    async with lock.hold(space(tenant, room, 9, 10)):  # a holder that outlasts the cap
        started = loop.time()
        await lock.await_known_holds(space(tenant, room, 9, 10))
        waited = loop.time() - started
    assert LOCAL_WAIT_CAP_MS / 1000 * 0.9 <= waited < 0.5


async def test_publications_go_out_with_the_release(client: Redis, prefix: str) -> None:
    lock = RedisRangeLock(client, prefix=prefix)
    publisher = RedisEventPublisher(client, prefix=prefix)
    tenant, room = uuid.uuid4(), uuid.uuid4()
    event = AvailabilityChanged(tenant, room, ChangeReason.BOOKED,
                                TimeWindow(T0, T0 + timedelta(hours=1)), 7)
    async with redis_client() as listener_client:
        pubsub = listener_client.pubsub()
        await pubsub.subscribe(channel_for(prefix, tenant, room))
        assert (await pubsub.get_message(timeout=1))["type"] == "subscribe"  # type: ignore[index]
        async with lock.hold(space(tenant, room, 9, 10)):
            await publisher.publish(event)
            early = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            assert early is None, "held: the change waits for the release"
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
        assert message is not None
        assert decode_event(message["data"]) == event
        await pubsub.aclose()
    assert await client.zcard(lock_key(prefix, tenant, room)) == 0


async def test_without_a_held_lock_publications_go_out_at_once(client: Redis, prefix: str) -> None:
    publisher = RedisEventPublisher(client, prefix=prefix)
    tenant, room = uuid.uuid4(), uuid.uuid4()
    event = AvailabilityChanged(tenant, room, ChangeReason.CANCELLED, TimeWindow(T0, T0 + timedelta(hours=1)), 2)
    async with redis_client() as listener_client:
        pubsub = listener_client.pubsub()
        await pubsub.subscribe(channel_for(prefix, tenant, room))
        await pubsub.get_message(timeout=1)
        await publisher.publish(event)
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
        assert message is not None
        assert decode_event(message["data"]) == event
        await pubsub.aclose()
