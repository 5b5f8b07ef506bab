"""The Redis range lock against a real Redis: exclusion, adjacency, expiry, waiting, degraded mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from booking_gateway.domain.errors import Contended
from booking_gateway.domain.ports import Claim, ConflictSpace, Lease
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.redis.keys import lock_key
from booking_gateway.infra.redis.range_lock import RedisLease, RedisRangeLock, epoch_us
from tests.integration.redis_fixtures import (
    TcpProxy,
    delete_prefixed,
    redis_client,
    redis_host_port,
    silent_server,
    unique_prefix,
)

DAY = datetime(2026, 12, 1, tzinfo=UTC)


def hours(start: float, end: float) -> TimeWindow:
    return TimeWindow(DAY + timedelta(hours=start), DAY + timedelta(hours=end))


def space(tenant: uuid.UUID, resource: uuid.UUID, start: float, end: float) -> ConflictSpace:
    return ConflictSpace.of(tenant, Claim(resource, hours(start, end)))


class FakeClock:
    """An epoch-ms wall clock that only moves when the test says so."""

    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
async def client() -> AsyncIterator[Redis]:
    async with redis_client() as redis:
        yield redis


@pytest.fixture
async def prefix(client: Redis) -> AsyncIterator[str]:
    name = unique_prefix()
    yield name
    await delete_prefixed(client, name)


@pytest.fixture
def tenant() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def resource() -> uuid.UUID:
    return uuid.uuid4()


@contextlib.asynccontextmanager
async def range_lock(client: Redis, prefix: str, **options: Any) -> AsyncIterator[RedisRangeLock]:
    options.setdefault("wait_ms", 0)
    lock = RedisRangeLock(client, prefix=prefix, **options)
    try:
        yield lock
    finally:
        await lock.aclose()


async def test_overlapping_window_is_refused(client: Redis, prefix: str, tenant: uuid.UUID,
                                             resource: uuid.UUID) -> None:
    async with range_lock(client, prefix) as lock, lock.hold(space(tenant, resource, 9, 10)) as first:
        assert first.held
        with pytest.raises(Contended) as refused:
            async with lock.hold(space(tenant, resource, 9.5, 10.5)):
                pytest.fail("an overlapping window was granted")
        assert 1 <= refused.value.retry_after_ms <= 250


async def test_adjacent_windows_are_held_together(client: Redis, prefix: str, tenant: uuid.UUID,
                                                  resource: uuid.UUID) -> None:
    async with range_lock(client, prefix) as lock, \
            lock.hold(space(tenant, resource, 9, 10)) as first, \
            lock.hold(space(tenant, resource, 10, 11)) as after, \
            lock.hold(space(tenant, resource, 8, 9)) as before:
        assert first.held
        assert after.held
        assert before.held


async def test_resources_and_tenants_are_independent(client: Redis, prefix: str, tenant: uuid.UUID,
                                                     resource: uuid.UUID) -> None:
    async with range_lock(client, prefix) as lock, \
            lock.hold(space(tenant, resource, 9, 10)), \
            lock.hold(space(tenant, uuid.uuid4(), 9, 10)) as other_resource, \
            lock.hold(space(uuid.uuid4(), resource, 9, 10)) as other_tenant:
        assert other_resource.held
        assert other_tenant.held


async def test_keys_follow_the_documented_layout(client: Redis, prefix: str, tenant: uuid.UUID,
                                                 resource: uuid.UUID) -> None:
    zset = lock_key(prefix, tenant, resource)
    assert zset == f"{prefix}:lock:{{{tenant}:{resource}}}"
    async with range_lock(client, prefix, ttl_ms=5000) as lock:
        async with lock.hold(space(tenant, resource, 9, 10)) as lease:
            members = await client.zrange(zset, 0, -1)
            assert len(members) == 1
            token, start, end = members[0].decode().split(":")
            assert isinstance(lease, RedisLease)
            assert token == lease.token
            assert (int(start), int(end)) == (epoch_us(hours(9, 10).start), epoch_us(hours(9, 10).end))
            assert 0 < await client.pttl(zset) <= 5000  # an idle zset disappears by itself
            assert [key async for key in client.scan_iter(match=f"{prefix}:*")] == [zset.encode()]
        assert await client.exists(zset) == 0  # the release removed the last entry


async def test_an_expired_entry_no_longer_blocks(client: Redis, prefix: str, tenant: uuid.UUID,
                                                 resource: uuid.UUID) -> None:
    clock = FakeClock()
    async with range_lock(client, prefix, ttl_ms=1000, now_ms=clock, auto_extend=False) as lock, \
            lock.hold(space(tenant, resource, 9, 10)):
        clock.ms += 999
        with pytest.raises(Contended) as refused:
            async with lock.hold(space(tenant, resource, 9, 10)):
                pass
        assert refused.value.retry_after_ms == 1  # the blocker expires in 1 ms
        clock.ms += 1
        async with lock.hold(space(tenant, resource, 9, 10)) as later:
            assert later.held


async def test_release_never_removes_another_holders_entry(client: Redis, prefix: str,
                                                           tenant: uuid.UUID, resource: uuid.UUID) -> None:
    clock = FakeClock()
    async with range_lock(client, prefix, ttl_ms=1000, now_ms=clock, auto_extend=False) as lock:
        stale = lock.hold(space(tenant, resource, 9, 10))
        assert (await stale.__aenter__()).held
        clock.ms += 1000  # the first holder stalls past its TTL...
        async with lock.hold(space(tenant, resource, 9, 10)) as current:
            assert current.held  # ...so a second one takes the same window,
            await stale.__aexit__(None, None, None)  # and the stale holder's release
            with pytest.raises(Contended):  # leaves the current holder's entry in place.
                async with lock.hold(space(tenant, resource, 9.5, 9.75)):
                    pass
            assert await client.zcard(lock_key(prefix, tenant, resource)) == 1


async def test_release_happens_when_the_body_raises(client: Redis, prefix: str, tenant: uuid.UUID,
                                                    resource: uuid.UUID) -> None:
    async with range_lock(client, prefix) as lock:
        with pytest.raises(RuntimeError, match="boom"):
            async with lock.hold(space(tenant, resource, 9, 10)):
                raise RuntimeError("boom")
        assert await client.exists(lock_key(prefix, tenant, resource)) == 0
        async with lock.hold(space(tenant, resource, 9, 10)) as again:
            assert again.held


async def test_contended_after_the_wait(client: Redis, prefix: str, tenant: uuid.UUID,
                                        resource: uuid.UUID) -> None:
    async with range_lock(client, prefix) as holder, range_lock(client, prefix, wait_ms=150) as waiter, \
            holder.hold(space(tenant, resource, 9, 10)):
        started = time.monotonic()
        with pytest.raises(Contended) as refused:
            async with waiter.hold(space(tenant, resource, 9, 10)):
                pass
        elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 1.0
    assert refused.value.retry_after_ms == 250  # the blocker had ~10 s to live: capped


async def test_a_waiter_gets_the_window_once_it_is_released(client: Redis, prefix: str,
                                                           tenant: uuid.UUID, resource: uuid.UUID) -> None:
    async with range_lock(client, prefix) as holder, range_lock(client, prefix, wait_ms=2000) as waiter:
        got: list[tuple[float, Lease]] = []

        async def wait_for_it() -> None:
            async with waiter.hold(space(tenant, resource, 9.5, 10.5)) as lease:
                got.append((time.monotonic(), lease))

        async with holder.hold(space(tenant, resource, 9, 10)):
            task = asyncio.create_task(wait_for_it())
            await asyncio.sleep(0.1)
            assert not got
            released = time.monotonic()
        await task
    (granted, lease), = got
    assert lease.held
    assert granted - released < 0.2  # back-off is capped well below this


async def test_several_claims_are_all_or_nothing(client: Redis, prefix: str, tenant: uuid.UUID,
                                                 resource: uuid.UUID) -> None:
    other = uuid.uuid4()
    both = ConflictSpace.of(tenant, Claim(resource, hours(9, 10)), Claim(other, hours(9, 10)))
    async with range_lock(client, prefix) as lock:
        async with lock.hold(both) as lease:
            assert lease.held
            assert isinstance(lease, RedisLease)
            assert len(lease.entries) == 2
        async with lock.hold(space(tenant, both.claims[1].resource_id, 9, 10)):
            with pytest.raises(Contended):
                async with lock.hold(both):
                    pass
            first = both.claims[0].resource_id
            assert await client.exists(lock_key(prefix, tenant, first)) == 0  # given back


async def test_claims_of_one_hold_do_not_block_each_other(client: Redis, prefix: str, tenant: uuid.UUID,
                                                          resource: uuid.UUID) -> None:
    overlapping = ConflictSpace.of(tenant, Claim(resource, hours(9, 11)), Claim(resource, hours(10, 12)))
    async with range_lock(client, prefix) as lock, lock.hold(overlapping) as lease:
        assert lease.held
        assert isinstance(lease, RedisLease)
        assert len(lease.entries) == 2


async def test_an_empty_conflict_space_needs_no_redis(client: Redis, prefix: str,
                                                      tenant: uuid.UUID) -> None:
    async with range_lock(client, prefix) as lock, lock.hold(ConflictSpace(tenant, ())) as lease:
        assert lease.held
        assert not isinstance(lease, RedisLease)
    assert [key async for key in client.scan_iter(match=f"{prefix}:*")] == []


async def test_extend_pushes_only_a_live_entry(client: Redis, prefix: str, tenant: uuid.UUID,
                                               resource: uuid.UUID) -> None:
    clock = FakeClock()
    async with range_lock(client, prefix, ttl_ms=1000, now_ms=clock, auto_extend=False) as lock:
        async with lock.hold(space(tenant, resource, 9, 10)) as lease:
            clock.ms += 900
            assert await lock.extend(lease)
            clock.ms += 900  # 1800 ms after the acquire, 900 after the extension
            with pytest.raises(Contended):
                async with lock.hold(space(tenant, resource, 9, 10)):
                    pass
            clock.ms += 100
            assert not await lock.extend(lease)  # expired: lost, not resurrected
        assert not await lock.extend(Lease(held=False))


async def test_the_zset_expires_with_its_longest_entry_and_goes_with_its_last(
        client: Redis, prefix: str, tenant: uuid.UUID, resource: uuid.UUID) -> None:
    zset = lock_key(prefix, tenant, resource)
    async with range_lock(client, prefix, ttl_ms=5000, auto_extend=False) as lock:
        async with lock.hold(space(tenant, resource, 9, 10)) as first:
            await client.persist(zset)  # as an older version left it: no expiry
            assert await client.pttl(zset) == -1
            assert await lock.extend(first)  # the extension gives it one again
            assert 0 < await client.pttl(zset) <= 5000
            async with lock.hold(space(tenant, resource, 11, 12)):
                assert 0 < await client.pttl(zset) <= 5000
            assert await client.zcard(zset) == 1
            assert 0 < await client.pttl(zset) <= 5000
        assert await client.exists(zset) == 0
    assert [key async for key in client.scan_iter(match=f"{prefix}:*")] == []


async def test_a_long_body_keeps_its_lease(client: Redis, prefix: str, tenant: uuid.UUID,
                                           resource: uuid.UUID) -> None:
    async with range_lock(client, prefix, ttl_ms=300) as lock, lock.hold(space(tenant, resource, 9, 10)):
        await asyncio.sleep(0.6)  # two TTLs: only the background extension keeps the entry alive
        with pytest.raises(Contended):
            async with lock.hold(space(tenant, resource, 9, 10)):
                pass


async def test_unreachable_redis_degrades_instead_of_failing(caplog: pytest.LogCaptureFixture,
                                                            tenant: uuid.UUID,
                                                            resource: uuid.UUID) -> None:
    async with redis_client("redis://127.0.0.1:1/0") as dead, \
            range_lock(dead, unique_prefix(), command_timeout_ms=200) as lock:
        assert not lock.degraded
        assert lock.last_failure_at is None
        with caplog.at_level(logging.WARNING, logger="booking_gateway.infra.redis.range_lock"):
            async with lock.hold(space(tenant, resource, 9, 10)) as lease:
                assert lease == Lease(held=False)
            started = time.monotonic()
            async with lock.hold(space(tenant, resource, 9, 10)) as again:
                assert not again.held
            assert time.monotonic() - started < 0.05  # no new attempt before the probe interval
        assert lock.degraded
        assert lock.last_failure_at is not None
        assert abs(lock.last_failure_at - datetime.now(UTC)) < timedelta(seconds=5)
        assert not await lock.ping()
        warnings = [r for r in caplog.records if "continue unlocked" in r.getMessage()]
        assert len(warnings) == 1  # rate-limited


async def test_a_silent_redis_costs_one_command_timeout(tenant: uuid.UUID, resource: uuid.UUID) -> None:
    async with silent_server() as url, redis_client(url) as silent, \
            range_lock(silent, unique_prefix(), command_timeout_ms=100) as lock:
        started = time.monotonic()
        async with lock.hold(space(tenant, resource, 9, 10)) as lease:
            assert not lease.held
        assert time.monotonic() - started < 0.5
        assert lock.degraded
        await lock.aclose()  # the background release of the unanswered acquire gives up too


async def test_recovers_when_redis_comes_back(client: Redis, prefix: str, tenant: uuid.UUID,
                                              resource: uuid.UUID) -> None:
    proxy = TcpProxy(*redis_host_port())
    await proxy.restore()
    try:
        async with redis_client(proxy.url()) as proxied, \
                range_lock(proxied, prefix, command_timeout_ms=200, probe_interval_ms=0) as lock:
            assert await lock.ping()
            async with lock.hold(space(tenant, resource, 9, 10)) as lease:
                assert lease.held
            await proxy.cut()
            async with lock.hold(space(tenant, resource, 9, 10)) as lease:
                assert not lease.held
            assert lock.degraded
            assert not await lock.ping()
            await proxy.restore()
            async with lock.hold(space(tenant, resource, 9, 10)) as lease:
                assert lease.held
            assert not lock.degraded
            assert await lock.ping()
    finally:
        await proxy.cut()


async def test_overlapping_holders_are_never_inside_together(client: Redis, prefix: str,
                                                             tenant: uuid.UUID, resource: uuid.UUID) -> None:
    rng = random.Random(20261201)
    windows = []
    for _ in range(50):
        start = rng.randrange(0, 96)  # quarter hours of one day
        windows.append(TimeWindow(DAY + timedelta(minutes=15 * start),
                                  DAY + timedelta(minutes=15 * (start + rng.randrange(1, 9)))))
    inside: list[TimeWindow] = []
    violations: list[tuple[TimeWindow, TimeWindow]] = []
    most_inside = 0

    async with redis_client() as second_client, \
            range_lock(client, prefix, wait_ms=20_000) as gateway_a, \
            range_lock(second_client, prefix, wait_ms=20_000) as gateway_b:

        async def book(i: int, window: TimeWindow) -> None:
            nonlocal most_inside
            lock = gateway_a if i % 2 else gateway_b
            async with lock.hold(ConflictSpace.of(tenant, Claim(resource, window))) as lease:
                assert lease.held
                violations.extend((window, other) for other in inside if other.overlaps(window))
                inside.append(window)
                most_inside = max(most_inside, len(inside))
                await asyncio.sleep(rng.uniform(0, 0.005))
                inside.remove(window)

        await asyncio.gather(*(book(i, w) for i, w in enumerate(windows)))
    assert not violations
    assert most_inside > 1  # disjoint windows did overlap in time


async def test_disjoint_windows_proceed_concurrently(client: Redis, prefix: str, tenant: uuid.UUID,
                                                     resource: uuid.UUID) -> None:
    count = 20
    all_inside = asyncio.Event()
    inside = 0

    async with range_lock(client, prefix) as lock:

        async def book(hour: int) -> None:
            nonlocal inside
            async with lock.hold(space(tenant, resource, hour, hour + 1)) as lease:
                assert lease.held
                inside += 1
                if inside == count:
                    all_inside.set()
                await asyncio.wait_for(all_inside.wait(), timeout=5)

        await asyncio.gather(*(book(hour) for hour in range(count)))
