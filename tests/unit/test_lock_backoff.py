"""The range lock's waiting, without Redis or real sleeps: the back-off schedule and the wait loop.

The wait loop runs against scripted replies of the three Lua scripts, with a fake monotonic
clock that only the fake sleep advances, so deadlines are exact and the tests take no time.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from booking_gateway.domain.errors import Contended
from booking_gateway.domain.ports import Claim, ConflictSpace, Lease
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.redis.range_lock import (
    ACQUIRE_LUA,
    BACKOFF_CAP_MS,
    EXTEND_LUA,
    RELEASE_LUA,
    RedisRangeLock,
    backoff_ms,
    retry_after_ms,
)

ALMOST_ONE = 0.999_999


# --- the pure schedule ------------------------------------------------------------------------


def test_the_ceiling_doubles_from_a_few_ms_up_to_the_cap() -> None:
    delays = [backoff_ms(n, rand=ALMOST_ONE, hint_ms=10_000, remaining_ms=10_000) for n in range(8)]
    assert [round(d) for d in delays] == [4, 8, 16, 32, 64, 64, 64, 64]
    assert backoff_ms(10_000, rand=ALMOST_ONE, hint_ms=10_000, remaining_ms=10_000) <= BACKOFF_CAP_MS


def test_full_jitter_spreads_over_the_ceiling_with_a_floor() -> None:
    assert backoff_ms(3, rand=0.5, hint_ms=10_000, remaining_ms=10_000) == pytest.approx(16)
    assert backoff_ms(3, rand=0.0, hint_ms=10_000, remaining_ms=10_000) == pytest.approx(1)


def test_never_sleeps_past_the_blockers_expiry_or_the_deadline() -> None:
    assert backoff_ms(5, rand=ALMOST_ONE, hint_ms=3, remaining_ms=10_000) == 3
    assert backoff_ms(5, rand=ALMOST_ONE, hint_ms=10_000, remaining_ms=2.5) == 2.5
    assert backoff_ms(5, rand=ALMOST_ONE, hint_ms=10_000, remaining_ms=0) == 0
    assert backoff_ms(5, rand=ALMOST_ONE, hint_ms=10_000, remaining_ms=-3) == 0


def test_retry_after_is_the_blockers_lifetime_capped_and_positive() -> None:
    assert retry_after_ms(10_000) == 250
    assert retry_after_ms(40) == 40
    assert retry_after_ms(0) == 1


# --- the wait loop against scripted replies ---------------------------------------------------


class FakeScript:
    def __init__(self, name: str) -> None:
        self.name = name
        self.replies: deque[Any] = deque()
        self.default: Any = 1
        self.calls: list[tuple[list[str], list[Any]]] = []

    async def __call__(self, keys: Sequence[str], args: Sequence[Any], client: Any = None) -> Any:
        self.calls.append((list(keys), list(args)))
        reply = self.replies.popleft() if self.replies else self.default
        if isinstance(reply, BaseException):
            raise reply
        return reply


class FakeRedis:
    """Only what the lock's constructor touches: ``register_script``."""

    def __init__(self) -> None:
        self.acquire, self.release, self.extend = (FakeScript(n) for n in ("acquire", "release", "extend"))
        self.acquire.default = [1, 0]

    def register_script(self, script: str) -> FakeScript:
        return {ACQUIRE_LUA: self.acquire, RELEASE_LUA: self.release, EXTEND_LUA: self.extend}[script]


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


TENANT = uuid.uuid4()
DAY = datetime(2026, 12, 1, tzinfo=UTC)


def claim(resource: uuid.UUID, start_h: int = 9) -> Claim:
    return Claim(resource, TimeWindow(DAY + timedelta(hours=start_h), DAY + timedelta(hours=start_h + 1)))


def make_lock(redis: FakeRedis, clock: FakeTime, **options: Any) -> RedisRangeLock:
    options.setdefault("wait_ms", 100)
    return RedisRangeLock(redis, sleep=clock.sleep, monotonic=clock.monotonic,  # type: ignore[arg-type]
                          rand=lambda: ALMOST_ONE, now_ms=lambda: 1_000, **options)


async def test_an_uncontended_hold_is_one_call_in_and_one_out() -> None:
    redis, clock = FakeRedis(), FakeTime()
    lock = make_lock(redis, clock)
    async with lock.hold(ConflictSpace.of(TENANT, claim(uuid.uuid4()))) as lease:
        assert lease.held
    assert (len(redis.acquire.calls), len(redis.release.calls), clock.sleeps) == (1, 1, [])
    await lock.aclose()


async def test_waits_within_the_deadline_then_reports_contended() -> None:
    redis, clock = FakeRedis(), FakeTime()
    redis.acquire.default = [0, 10_000]  # a holder that keeps the window
    lock = make_lock(redis, clock, wait_ms=100)
    with pytest.raises(Contended) as refused:
        async with lock.hold(ConflictSpace.of(TENANT, claim(uuid.uuid4()))):
            pytest.fail("granted")
    assert refused.value.retry_after_ms == 250
    assert sum(clock.sleeps) == pytest.approx(0.1)  # slept right up to the deadline, not past it
    assert max(clock.sleeps) <= BACKOFF_CAP_MS / 1000
    assert len(redis.acquire.calls) == len(clock.sleeps) + 1  # a last try at the deadline
    assert redis.release.calls == []  # nothing was taken
    await lock.aclose()


async def test_sleeps_no_longer_than_the_blocker_lives() -> None:
    redis, clock = FakeRedis(), FakeTime()
    redis.acquire.replies.extend([[0, 3], [0, 2], [1, 0]])
    lock = make_lock(redis, clock)
    async with lock.hold(ConflictSpace.of(TENANT, claim(uuid.uuid4()))) as lease:
        assert lease.held
    assert clock.sleeps == pytest.approx([0.003, 0.002])
    await lock.aclose()


async def test_a_zero_wait_tries_once() -> None:
    redis, clock = FakeRedis(), FakeTime()
    redis.acquire.default = [0, 40]
    lock = make_lock(redis, clock, wait_ms=0)
    with pytest.raises(Contended) as refused:
        async with lock.hold(ConflictSpace.of(TENANT, claim(uuid.uuid4()))):
            pass
    assert refused.value.retry_after_ms == 40
    assert (len(redis.acquire.calls), clock.sleeps) == (1, [])
    await lock.aclose()


async def test_claims_taken_are_given_back_when_a_later_one_is_contended() -> None:
    redis, clock = FakeRedis(), FakeTime()
    first, second = sorted([uuid.uuid4(), uuid.uuid4()])
    redis.acquire.replies.append([1, 0])
    redis.acquire.default = [0, 10_000]
    lock = make_lock(redis, clock)
    with pytest.raises(Contended):
        async with lock.hold(ConflictSpace.of(TENANT, claim(second), claim(first))):
            pass
    assert str(first) in redis.acquire.calls[0][0][0]  # in the space's order
    assert all(str(second) in keys[0] for keys, _ in redis.acquire.calls[1:])
    (released_keys, released_args), = redis.release.calls
    assert str(first) in released_keys[0]
    assert released_args[0] == redis.acquire.calls[0][1][2]  # by the hold's own token
    await lock.aclose()


async def test_release_failures_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    redis, clock = FakeRedis(), FakeTime()
    redis.release.replies.extend([RedisConnectionError("gone"), RedisConnectionError("gone")])
    lock = make_lock(redis, clock, probe_interval_ms=0)
    async with lock.hold(ConflictSpace.of(TENANT, claim(uuid.uuid4()))) as lease:
        assert lease.held
    with pytest.raises(ValueError, match="body, held=True"):  # the body's error, not the release's
        async with lock.hold(ConflictSpace.of(TENANT, claim(uuid.uuid4()))) as lease:
            raise ValueError(f"body, held={lease.held}")
    assert len(redis.release.calls) == 2
    assert "continue unlocked" in caplog.text
    assert lock.degraded  # a failed release is a sign of trouble too
    await lock.aclose()


async def test_degraded_until_an_acquire_succeeds_with_one_probe_per_interval() -> None:
    redis, clock = FakeRedis(), FakeTime()
    redis.acquire.replies.append(RedisConnectionError("refused"))
    lock = make_lock(redis, clock, probe_interval_ms=1000)
    space = ConflictSpace.of(TENANT, claim(uuid.uuid4()))
    async with lock.hold(space) as lease:
        assert lease == Lease(held=False)
    assert lock.degraded
    assert lock.last_failure_ms == 1_000
    async with lock.hold(space) as lease:
        assert not lease.held
    assert len(redis.acquire.calls) == 1  # within the probe interval: Redis is not tried
    clock.now += 1.0
    async with lock.hold(space) as lease:
        assert lease.held
    assert not lock.degraded
    await lock.aclose()
