"""The per-tenant rate limiter against a real Redis: burst, refill, independence, failing open, and
batches charged one token per operation."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
import pytest
import strawberry
from redis.asyncio import Redis

from booking_gateway.domain.outcome import Deps
from booking_gateway.infra.redis.rate_limit import RateDecision, RedisRateLimiter, rate_key
from booking_gateway.infra.settings import Settings
from booking_gateway.web.admission import Admission
from booking_gateway.web.documents import DocumentCache, DocumentLimits
from booking_gateway.web.http_graphql import EdgeLimits, GraphQLOverHTTP
from tests.asgi import JSON_WITH_KEY, asgi_request
from tests.integration.redis_fixtures import (
    TcpProxy,
    delete_prefixed,
    redis_client,
    redis_host_port,
    silent_server,
    unique_prefix,
)

LOGGER = "booking_gateway.infra.redis.rate_limit"


class Clock:
    """Epoch microseconds (the bucket's clock) and a monotonic clock, moved by the test only."""

    def __init__(self) -> None:
        self.us = 1_800_000_000_000_000
        self.mono = 1000.0

    def now_us(self) -> int:
        return self.us

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.us += round(seconds * 1e6)
        self.mono += seconds

    def advance_monotonic(self, seconds: float) -> None:
        """Only the process's clock moves (probe and warning intervals); buckets do not refill."""
        self.mono += seconds


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
def clock() -> Clock:
    return Clock()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # nothing listens there any more


async def checks(limiter: RedisRateLimiter, tenant: uuid.UUID, n: int) -> list[RateDecision]:
    return [await limiter.check(tenant) for _ in range(n)]


async def test_a_burst_is_allowed_then_refused_with_a_retry_after(client: Redis, prefix: str,
                                                                  clock: Clock) -> None:
    limiter = RedisRateLimiter(client, prefix=prefix, rate_per_s=10, burst=5, now_us=clock.now_us)
    tenant = uuid.uuid4()
    burst = await checks(limiter, tenant, 5)
    assert [d.allowed for d in burst] == [True] * 5
    assert [d.remaining for d in burst] == [4, 3, 2, 1, 0]
    assert all(d.enforced and d.retry_after_s == 0 for d in burst)

    refused = await limiter.check(tenant)
    assert refused == RateDecision(allowed=False, retry_after_s=pytest.approx(0.1), remaining=0)

    clock.advance(0.04)  # part of a token: still refused, for the rest of the interval
    assert (await limiter.check(tenant)).retry_after_s == pytest.approx(0.06)


async def test_tokens_refill_at_the_rate_up_to_the_burst(client: Redis, prefix: str, clock: Clock) -> None:
    limiter = RedisRateLimiter(client, prefix=prefix, rate_per_s=10, burst=5, now_us=clock.now_us)
    tenant = uuid.uuid4()
    await checks(limiter, tenant, 5)
    clock.advance(0.1)  # one token
    assert [d.allowed for d in await checks(limiter, tenant, 2)] == [True, False]
    clock.advance(0.35)  # three and a half tokens: three whole ones
    assert [d.allowed for d in await checks(limiter, tenant, 4)] == [True, True, True, False]
    clock.advance(3600)  # an idle hour refills only up to the burst
    decisions = await checks(limiter, tenant, 6)
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert decisions[0].remaining == 4


async def test_refused_requests_do_not_push_recovery_out(client: Redis, prefix: str, clock: Clock) -> None:
    limiter = RedisRateLimiter(client, prefix=prefix, rate_per_s=10, burst=2, now_us=clock.now_us)
    tenant = uuid.uuid4()
    await checks(limiter, tenant, 2)
    hammering = await checks(limiter, tenant, 100)
    assert not any(d.allowed for d in hammering)
    clock.advance(0.1)
    assert (await limiter.check(tenant)).allowed


async def test_fractional_intervals_keep_whole_tokens(client: Redis, prefix: str, clock: Clock) -> None:
    limiter = RedisRateLimiter(client, prefix=prefix, rate_per_s=3, burst=3, now_us=clock.now_us)
    tenant = uuid.uuid4()
    assert [d.remaining for d in await checks(limiter, tenant, 3)] == [2, 1, 0]
    clock.advance(1)  # exactly three intervals of 333333.3 us
    assert [d.allowed for d in await checks(limiter, tenant, 4)] == [True, True, True, False]


async def test_the_redis_clock_refills_in_real_time(client: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(client, prefix=prefix, rate_per_s=50, burst=2)  # Redis TIME
    tenant = uuid.uuid4()
    assert [d.allowed for d in await checks(limiter, tenant, 2)] == [True, True]
    refused = await limiter.check(tenant)
    assert not refused.allowed
    assert 0 < refused.retry_after_s <= 0.02
    await asyncio.sleep(refused.retry_after_s + 0.005)
    assert (await limiter.check(tenant)).allowed


async def test_tenants_have_independent_budgets(client: Redis, prefix: str, clock: Clock) -> None:
    limiter = RedisRateLimiter(client, prefix=prefix, rate_per_s=10, burst=5, now_us=clock.now_us)
    flooder, quiet = uuid.uuid4(), uuid.uuid4()
    flood = await asyncio.gather(*(limiter.check(flooder) for _ in range(60)))
    assert all(d.enforced for d in flood)
    assert sum(d.allowed for d in flood) == 5  # atomic: concurrent checks never over-grant
    assert [d.allowed for d in await checks(limiter, quiet, 5)] == [True] * 5
    assert [d.remaining for d in await checks(limiter, uuid.uuid4(), 1)] == [4]


async def test_a_flood_does_not_slow_another_tenant(client: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(client, prefix=prefix, rate_per_s=100, burst=10)
    flooder, quiet = uuid.uuid4(), uuid.uuid4()
    stop = asyncio.Event()

    async def flood() -> int:
        refused = 0
        while not stop.is_set():
            refused += not (await limiter.check(flooder)).allowed
        return refused

    flooders = [asyncio.create_task(flood()) for _ in range(8)]
    try:
        await asyncio.sleep(0.05)
        started = time.monotonic()
        quiet_decisions = await checks(limiter, quiet, 10)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        refused = sum(await asyncio.gather(*flooders))
    assert refused > 100  # the flood really was refused meanwhile
    assert all(d.allowed for d in quiet_decisions)
    assert elapsed < 1.0  # ten checks, each one round trip, even with eight loops flooding


async def test_the_key_layout_and_its_expiry(client: Redis, prefix: str, clock: Clock) -> None:
    limiter = RedisRateLimiter(client, prefix=prefix, rate_per_s=10, burst=5, now_us=clock.now_us)
    tenant = uuid.uuid4()
    key = rate_key(prefix, tenant)
    assert key == f"{prefix}:rate:{{{tenant}}}"
    await checks(limiter, tenant, 3)
    assert int(await client.get(key)) == clock.us + 300_000  # the TAT: three intervals ahead
    assert 0 < await client.pttl(key) <= 300  # gone once the bucket is full again
    assert [k async for k in client.scan_iter(match=f"{prefix}:*")] == [key.encode()]


async def test_a_zero_rate_disables_limiting_without_redis(caplog: pytest.LogCaptureFixture) -> None:
    async with redis_client(closed_port_url()) as dead:
        limiter = RedisRateLimiter(dead, rate_per_s=0, burst=5)
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            decisions = await checks(limiter, uuid.uuid4(), 1000)
        assert all(d == RateDecision(True, 0.0, 5, enforced=False) for d in decisions)
        assert not limiter.enabled
        assert not limiter.degraded
        assert limiter.status == "disabled"
        assert not caplog.records


async def test_unreachable_redis_fails_open_and_says_so(caplog: pytest.LogCaptureFixture,
                                                        clock: Clock) -> None:
    async with redis_client(closed_port_url()) as dead:
        limiter = RedisRateLimiter(dead, rate_per_s=1, burst=1, monotonic=clock.monotonic,
                                   probe_interval_ms=0)
        assert limiter.status == "ok"
        assert limiter.last_failure_at is None
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            decisions = await checks(limiter, uuid.uuid4(), 5)  # burst 1, yet all pass
            clock.advance(4)
            await limiter.check(uuid.uuid4())
        assert all(d == RateDecision(True, 0.0, 1, enforced=False) for d in decisions)
        assert limiter.degraded
        assert limiter.status == "degraded"
        assert limiter.last_error is not None
        assert "ConnectionError" in limiter.last_error
        assert limiter.last_failure_at is not None
        assert abs(limiter.last_failure_at - datetime.now(UTC)) < timedelta(seconds=5)
        assert not await limiter.ping()
        warnings = [r for r in caplog.records if "failing open" in r.getMessage()]
        assert len(warnings) == 1  # six failures in four seconds: one warning

        with caplog.at_level(logging.WARNING, logger=LOGGER):
            clock.advance(2)  # past the warning interval
            await limiter.check(uuid.uuid4())
        assert len([r for r in caplog.records if "failing open" in r.getMessage()]) == 2


async def test_a_silent_redis_costs_one_timeout_per_probe_interval(clock: Clock) -> None:
    async with silent_server() as url, redis_client(url) as silent:
        limiter = RedisRateLimiter(silent, rate_per_s=1, burst=1, command_timeout_ms=100,
                                   probe_interval_ms=1000, monotonic=clock.monotonic)
        started = time.monotonic()
        assert (await limiter.check(uuid.uuid4())).allowed
        assert 0.09 < time.monotonic() - started < 0.5
        assert limiter.degraded
        assert "TimeoutError" in (limiter.last_error or "")

        started = time.monotonic()
        for _ in range(100):  # within the probe interval: no Redis call at all
            assert not (await limiter.check(uuid.uuid4())).enforced
        assert time.monotonic() - started < 0.05

        clock.advance(1.0)  # one probe, one timeout, then quiet again
        started = time.monotonic()
        await asyncio.gather(*(limiter.check(uuid.uuid4()) for _ in range(20)))
        assert time.monotonic() - started < 0.5


async def test_recovers_when_redis_comes_back(caplog: pytest.LogCaptureFixture, client: Redis,
                                              prefix: str, clock: Clock) -> None:
    proxy = TcpProxy(*redis_host_port())
    await proxy.restore()
    tenant = uuid.uuid4()
    try:
        async with redis_client(proxy.url()) as proxied:
            limiter = RedisRateLimiter(proxied, prefix=prefix, rate_per_s=10, burst=2,
                                       now_us=clock.now_us, monotonic=clock.monotonic,
                                       command_timeout_ms=200, probe_interval_ms=500)
            assert (await limiter.check(tenant)).enforced
            await proxy.cut()
            assert not (await limiter.check(tenant)).enforced
            assert limiter.degraded
            await proxy.restore()
            # until the next probe the limiter stays open, without trying Redis
            assert not (await limiter.check(tenant)).enforced
            clock.advance_monotonic(0.5)
            with caplog.at_level(logging.INFO, logger=LOGGER):
                probe = await limiter.check(tenant)
            assert probe == RateDecision(allowed=True, retry_after_s=0.0, remaining=0)  # 2nd token
            assert not limiter.degraded
            assert limiter.status == "ok"
            assert limiter.last_failure_at is not None  # the history stays readable
            assert any("available again" in r.getMessage() for r in caplog.records)
            assert not (await limiter.check(tenant)).allowed  # enforced again
    finally:
        await proxy.cut()


async def test_an_exhausted_connection_pool_is_not_an_outage(caplog: pytest.LogCaptureFixture,
                                                              prefix: str, clock: Clock) -> None:
    async with redis_client(max_connections=2) as small:
        limiter = RedisRateLimiter(small, prefix=prefix, rate_per_s=10, burst=100, now_us=clock.now_us)
        tenant = uuid.uuid4()
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            burst = await asyncio.gather(*(limiter.check(tenant) for _ in range(20)))
        unchecked = [d for d in burst if not d.enforced]
        assert unchecked  # more concurrent checks than connections: those pass unchecked...
        assert all(d.allowed for d in unchecked)
        assert not limiter.degraded  # ...but the limiter keeps enforcing for everyone else
        assert (await limiter.check(tenant)).enforced
        assert len([r for r in caplog.records if "pool exhausted" in r.getMessage()]) == 1


async def test_from_settings_reads_rate_burst_and_prefix(client: Redis, prefix: str) -> None:
    settings = Settings(redis_prefix=prefix, rate_limit_per_s=1, rate_limit_burst=3)
    limiter = RedisRateLimiter.from_settings(client, settings)
    tenant = uuid.uuid4()
    assert [d.allowed for d in await checks(limiter, tenant, 4)] == [True, True, True, False]
    assert await client.exists(rate_key(prefix, tenant))
    assert await limiter.ping()


# --- a batch costs one token per operation -----------------------------------------------------


async def test_a_check_of_cost_n_takes_n_tokens_at_once_or_none(client: Redis, prefix: str, clock: Clock) -> None:
    limiter = RedisRateLimiter(client, prefix=prefix, rate_per_s=10, burst=10, now_us=clock.now_us)
    tenant = uuid.uuid4()
    taken = await limiter.check(tenant, cost=4)
    assert (taken.allowed, taken.remaining) == (True, 6)
    assert int(await client.get(rate_key(prefix, tenant))) == clock.us + 400_000  # four intervals ahead
    too_many = await limiter.check(tenant, cost=7)  # one token short
    assert too_many == RateDecision(allowed=False, retry_after_s=pytest.approx(0.1), remaining=0)
    assert (await limiter.check(tenant, cost=6)).remaining == 0  # the refusal took nothing
    assert not (await limiter.check(tenant)).allowed
    clock.advance(0.3)
    assert [(await limiter.check(tenant, cost=3)).allowed, (await limiter.check(tenant)).allowed] == [True, False]
    with pytest.raises(ValueError, match="cost must be at least 1"):
        await limiter.check(tenant, cost=0)


@strawberry.type
class CountingQuery:
    @strawberry.field
    def ping(self) -> str:
        return "pong"


@strawberry.type
class CountingMutation:
    @strawberry.mutation
    def touch(self) -> int:
        EXECUTED.append(1)
        return len(EXECUTED)


EXECUTED: list[int] = []


async def post_batch(app: GraphQLOverHTTP, size: int) -> tuple[int, dict[bytes, bytes], Any]:
    body = orjson.dumps([{"query": "mutation { touch }"}] * size)
    sent = await asgi_request(app, body, list(JSON_WITH_KEY))
    return sent[0]["status"], dict(sent[0]["headers"]), orjson.loads(sent[1]["body"])


async def test_http_charges_a_batch_per_operation_before_running_any(client: Redis, prefix: str,
                                                                      clock: Clock) -> None:
    tenant = uuid.uuid4()

    async def tenant_for(token: str) -> uuid.UUID | None:
        return tenant

    async def fallback(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not for HTTP POST")

    schema = strawberry.Schema(query=CountingQuery, mutation=CountingMutation)
    limiter = RedisRateLimiter(client, prefix=prefix, rate_per_s=10, burst=5, now_us=clock.now_us)
    app = GraphQLOverHTTP(schema, cast(Deps, None), tenant_for, fallback=fallback, graphiql=False,
                          admission=Admission(DocumentCache(schema._schema, DocumentLimits()), limiter),
                          edge=EdgeLimits(max_batch=10))
    EXECUTED.clear()
    status, _, body = await post_batch(app, 3)
    assert status == 200
    assert [answer["data"]["touch"] for answer in body] == [1, 2, 3]

    status, headers, body = await post_batch(app, 3)  # two tokens left: refused whole
    assert status == 429
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert headers[b"retry-after"] == b"1"
    assert len(EXECUTED) == 3  # nothing of it ran

    status, _, body = await post_batch(app, 2)  # the two left
    assert status == 200
    assert len(EXECUTED) == 5

    clock.advance(3600)  # a full bucket still cannot pay for more operations than it holds
    status, headers, body = await post_batch(app, 6)
    assert status == 400
    assert body["errors"][0]["message"] == (
        "a batch of 6 operations costs 6 rate-limit tokens, more than this tenant's burst of 5 "
        "(BOOKING_RATE_LIMIT_BURST): send at most 5 operations at once")
    assert b"retry-after" not in headers
    assert len(EXECUTED) == 5
    assert (await limiter.check(tenant, cost=5)).allowed  # and the refusal took nothing
