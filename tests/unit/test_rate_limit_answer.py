"""The rate limiter's pure parts: the HTTP 429 answer, its settings and its argument checks."""

from __future__ import annotations

import math
import uuid

import pytest
from redis.asyncio import Redis

from booking_gateway.infra.redis.rate_limit import (
    RateDecision,
    RateLimited,
    RedisRateLimiter,
    rate_limited_answer,
    retry_after_seconds,
)
from booking_gateway.infra.settings import Settings, SettingsError, load_settings


@pytest.mark.parametrize(("seconds", "header"), [
    (0.0, 1), (1e-6, 1), (0.1, 1), (0.999, 1), (1.0, 1), (1.000001, 2), (2.5, 3), (59.2, 60),
])
def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one(seconds: float, header: int) -> None:
    assert retry_after_seconds(seconds) == header


@pytest.mark.parametrize("seconds", [math.inf, math.nan])
def test_retry_after_refuses_non_finite_waits(seconds: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        retry_after_seconds(seconds)


def test_the_429_answer_carries_retry_after_and_a_graphql_shaped_body() -> None:
    answer = rate_limited_answer(RateDecision(allowed=False, retry_after_s=1.2345, remaining=0))
    assert answer.status == 429
    assert answer.headers == {"Retry-After": "2"}
    [error] = answer.body["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfterMs": 1235}
    assert "retry after 2 s" in error["message"]
    assert set(answer.body) == {"errors"}


def test_a_tiny_wait_still_asks_for_a_second_and_a_millisecond() -> None:
    answer = rate_limited_answer(RateDecision(allowed=False, retry_after_s=0.000001, remaining=0))
    assert answer.headers["Retry-After"] == "1"
    assert answer.body["errors"][0]["extensions"]["retryAfterMs"] == 1


def test_an_allowed_request_has_no_429_answer() -> None:
    with pytest.raises(ValueError, match="allowed"):
        rate_limited_answer(RateDecision(allowed=True, retry_after_s=0.0, remaining=3))


def test_the_exception_carries_the_answer() -> None:
    decision = RateDecision(allowed=False, retry_after_s=0.5, remaining=0)
    err = RateLimited(decision)
    assert err.decision is decision
    assert err.answer == rate_limited_answer(decision)
    assert str(err) == err.answer.body["errors"][0]["message"]


def test_settings_defaults_and_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOOKING_RATE_LIMIT_PER_S", raising=False)
    monkeypatch.delenv("BOOKING_RATE_LIMIT_BURST", raising=False)
    defaults = Settings()
    assert (defaults.rate_limit_per_s, defaults.rate_limit_burst) == (100, 200)
    monkeypatch.setenv("BOOKING_RATE_LIMIT_PER_S", "0")
    monkeypatch.setenv("BOOKING_RATE_LIMIT_BURST", "7")
    settings = load_settings()
    assert (settings.rate_limit_per_s, settings.rate_limit_burst) == (0, 7)


@pytest.mark.parametrize(("name", "value"), [
    ("rate_limit_per_s", -1), ("rate_limit_per_s", 1_000_001), ("rate_limit_per_s", "fast"),
    ("rate_limit_per_s", 2.5), ("rate_limit_burst", 0), ("rate_limit_burst", 1_000_001),
])
def test_bad_settings_name_the_variable(name: str, value: object) -> None:
    with pytest.raises(SettingsError, match=f"BOOKING_{name.upper()}="):
        load_settings(**{name: value})


@pytest.mark.parametrize(("rate", "burst"), [
    (-1, 10), (0.0001, 10), (2_000_000, 10), (math.nan, 10), (math.inf, 10), (10, 0), (10, 2_000_000),
])
async def test_the_limiter_refuses_rates_and_bursts_out_of_range(rate: float, burst: int) -> None:
    client = Redis()  # never connects: construction only registers the script
    try:
        with pytest.raises(ValueError, match="rate_per_s"):
            RedisRateLimiter(client, rate_per_s=rate, burst=burst)
    finally:
        await client.aclose()


async def test_a_disabled_limiter_allows_everything_without_redis() -> None:
    client = Redis(port=1)  # nothing listens there: a call would fail
    try:
        limiter = RedisRateLimiter(client, rate_per_s=0, burst=3)
        decision = await limiter.check(uuid.uuid4())
    finally:
        await client.aclose()
    assert decision == RateDecision(allowed=True, retry_after_s=0.0, remaining=3, enforced=False)
    assert limiter.status == "disabled"
    assert not limiter.degraded
