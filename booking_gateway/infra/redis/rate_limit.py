"""Per-tenant rate limiting in Redis: a token bucket per tenant, shared by every gateway process.

* One key per tenant, ``<prefix>:rate:{<tenant>}``, holding one number (GCRA, the token bucket
  as a "theoretical arrival time"); one Lua script (``lua/rate_limit.lua``) checks and counts a
  request atomically in one round trip (EVALSHA). Tenants never share a key, so one tenant's
  flood spends only its own budget; the hash tag keeps each tenant's key in one Cluster slot.
* ``rate_per_s`` tokens refill per second up to ``burst``; a refused request is not counted,
  so a tenant that keeps hammering recovers as soon as it slows down. A check may cost several
  tokens (a batch of operations), taken all at once or not at all, in the same round trip.
* "Now" is the Redis server's ``TIME``, read inside the script: every gateway process shares a
  tenant's bucket, and a bucket is an absolute instant, so one clock for all of them means a
  skewed gateway neither grants extra requests nor refuses early. Tests inject ``now_us``
  instead, to refill buckets without sleeping.
* If Redis is unreachable the limiter FAILS OPEN: requests are allowed (``enforced=False``),
  the limiter reports itself ``degraded`` (for /readyz) and warns at most every few seconds.
  While degraded, one request per ``probe_interval_ms`` tries Redis again, so an outage does
  not add a command timeout to every request; the first answer ends degraded mode.

The edge turns a refusal into HTTP 429 with :func:`rate_limited_answer` (no web framework here).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from redis.exceptions import MaxConnectionsError, RedisError

from booking_gateway.infra.deadlines import Deadlines
from booking_gateway.infra.redis.outage import WARN_EVERY_S, Outage

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

    from booking_gateway.infra.redis.scripts import ScriptRunner
    from booking_gateway.infra.settings import Settings

_log = logging.getLogger(__name__)

RATE_LIMIT_LUA = (files(__package__) / "lua" / "rate_limit.lua").read_text(encoding="utf-8")

#: Bounds of a non-zero rate: a bucket's span (burst / rate) must stay far inside what the
#: script's doubles count exactly in microseconds.
MIN_RATE_PER_S = 0.001
MAX_RATE_PER_S = 1_000_000
MAX_BURST = 1_000_000


def rate_key(prefix: str, tenant_id: UUID) -> str:
    """The tenant's bucket; the hash tag keeps it in one Redis Cluster slot."""
    return f"{prefix}:rate:{{{tenant_id}}}"


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether one request may go on; ``retry_after_s`` > 0 only when it may not.

    ``remaining``: requests the tenant could make right now after this one. ``enforced`` is
    False when no bucket was consulted (limiting disabled, or Redis unreachable: failing open);
    ``remaining`` is then the burst.
    """

    allowed: bool
    retry_after_s: float
    remaining: int
    enforced: bool = True


class RedisRateLimiter:
    """Token buckets per tenant on Redis (or Valkey); ``client`` is owned by the caller.

    ``rate_per_s`` 0 disables limiting (no Redis call). ``now_us`` (epoch microseconds) replaces
    the Redis server's clock, for tests; ``monotonic`` drives probing and warning intervals.
    """

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "bg",
        rate_per_s: float = 100.0,
        burst: int = 200,
        now_us: Callable[[], int] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        command_timeout_ms: int = 250,
        probe_interval_ms: int = 1000,
        runner: ScriptRunner | None = None,
    ) -> None:
        if not (rate_per_s == 0 or MIN_RATE_PER_S <= rate_per_s <= MAX_RATE_PER_S) \
                or not 1 <= burst <= MAX_BURST:
            raise ValueError(f"rate_per_s must be 0 (off) or between {MIN_RATE_PER_S} and "
                             f"{MAX_RATE_PER_S}, and burst between 1 and {MAX_BURST}")
        if command_timeout_ms <= 0 or probe_interval_ms < 0:
            raise ValueError("command_timeout_ms must be positive, probe_interval_ms not negative")
        self._client = client
        self._prefix = prefix
        self._rate_per_s = rate_per_s
        self._burst = burst
        self._interval_us = 1e6 / rate_per_s if rate_per_s else math.inf
        self._now_us = now_us
        self._monotonic = monotonic
        self._timeout_s = command_timeout_ms / 1000
        self._deadlines = Deadlines(self._timeout_s)
        self._script: AsyncScript = client.register_script(RATE_LIMIT_LUA)
        self._runner = runner
        self._outage = Outage("Redis rate limiter", "failing open: tenant rate limits are not enforced until "
                              "Redis answers again", "tenant rate limits are enforced again",
                              probe_interval_ms / 1000, monotonic, _log)
        self._last_saturation_warning_at: float | None = None

    @classmethod
    def from_settings(cls, client: Redis, settings: Settings, **overrides: Any) -> RedisRateLimiter:
        """Prefix, rate and burst from ``BOOKING_REDIS_PREFIX``, ``_RATE_LIMIT_PER_S``, ``_RATE_LIMIT_BURST``."""
        options: dict[str, Any] = {"prefix": settings.redis_prefix,
                                   "rate_per_s": settings.rate_limit_per_s,
                                   "burst": settings.rate_limit_burst}
        return cls(client, **(options | overrides))

    # --- health -----------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._rate_per_s > 0

    @property
    def burst(self) -> int:
        """The bucket's size: the most requests (or operations) allowed at once."""
        return self._burst

    @property
    def degraded(self) -> bool:
        """True since Redis last failed a check (requests pass unlimited), until it next answers."""
        return self._outage.degraded

    @property
    def last_failure_at(self) -> datetime | None:
        """When Redis last failed a check (wall clock, UTC); None if it never did."""
        return self._outage.last_failure_at

    @property
    def last_error(self) -> str | None:
        """The last failure, e.g. ``"ConnectionError: ..."``; None if Redis never failed."""
        return self._outage.last_error

    @property
    def status(self) -> Literal["disabled", "ok", "degraded"]:
        """For /readyz: ``degraded`` means failing open (rate limits are not enforced)."""
        if not self.enabled:
            return "disabled"
        return "degraded" if self.degraded else "ok"

    async def ping(self) -> bool:
        """Whether Redis answers now; never raises, does not change ``degraded``."""
        try:
            async with asyncio.timeout(self._timeout_s):
                return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    # --- the check --------------------------------------------------------------------------

    async def check(self, tenant_id: UUID, cost: int = 1) -> RateDecision:
        """Count ``cost`` requests (a batch's operations) of ``tenant_id`` at once, all or none;
        never raises for a Redis failure (fails open). A cost above the burst is always refused."""
        if cost < 1:
            raise ValueError(f"cost must be at least 1, got {cost}")
        if not self.enabled:
            return self._unenforced()
        if self._outage.skip():
            return self._unenforced()
        now = "" if self._now_us is None else str(self._now_us())
        try:
            keys = [rate_key(self._prefix, tenant_id)]
            args: list[int | str] = [repr(self._interval_us), self._burst, now, cost]
            if self._runner is not None:
                reply = await self._runner.run(self._script, keys, args, self._deadlines)
            else:
                with self._deadlines.limit():
                    reply = await self._script(keys=keys, args=args, client=self._client)
        except MaxConnectionsError:
            self._record_saturation()
            return self._unenforced()
        except (RedisError, OSError) as err:
            self._outage.failed(err)
            return self._unenforced()
        self._outage.answered()
        allowed, retry_after_us, remaining = (int(x) for x in reply)
        return RateDecision(allowed=bool(allowed), retry_after_s=retry_after_us / 1e6,
                            remaining=remaining)

    def _unenforced(self) -> RateDecision:
        return RateDecision(allowed=True, retry_after_s=0.0, remaining=self._burst, enforced=False)

    def _record_saturation(self) -> None:
        """The client's own connection pool is exhausted: local overload, not a Redis outage, so
        this one request passes without entering degraded mode (which would open every tenant's
        limit for a probe interval)."""
        now = self._monotonic()
        last = self._last_saturation_warning_at
        if last is None or now - last >= WARN_EVERY_S:
            self._last_saturation_warning_at = now
            _log.warning("Redis connection pool exhausted: a request passed the rate limiter "
                         "unchecked; give the Redis client more connections or a blocking pool")

# --- the HTTP answer, framework-free ------------------------------------------------------------


def retry_after_seconds(retry_after_s: float) -> int:
    """The ``Retry-After`` header's whole seconds: rounded up, at least 1 (0 would invite a storm)."""
    if not math.isfinite(retry_after_s):
        raise ValueError(f"retry_after_s must be finite, got {retry_after_s!r}")
    return max(1, math.ceil(retry_after_s))


@dataclass(frozen=True, slots=True)
class RateLimitedAnswer:
    """What the HTTP layer sends for a refused request: status, headers, GraphQL-shaped body."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any]


def rate_limited_answer(decision: RateDecision) -> RateLimitedAnswer:
    """HTTP 429 with ``Retry-After`` (whole seconds, rounded up) for a refused ``decision``.

    The body has the shape GraphQL clients already parse; ``extensions.retryAfterMs`` carries
    the precise wait for clients that can use it.
    """
    if decision.allowed:
        raise ValueError("an allowed request gets no 429 answer")
    seconds = retry_after_seconds(decision.retry_after_s)
    retry_after_ms = max(1, math.ceil(decision.retry_after_s * 1000))
    message = f"rate limit exceeded for this tenant; retry after {seconds} s"
    return RateLimitedAnswer(
        status=429,
        headers={"Retry-After": str(seconds)},
        body={"errors": [{"message": message,
                          "extensions": {"code": "RATE_LIMITED", "retryAfterMs": retry_after_ms}}]},
    )


class RateLimited(Exception):
    """Raised by the edge for a refused request, carrying the 429 answer to send."""

    def __init__(self, decision: RateDecision) -> None:
        self.answer = rate_limited_answer(decision)
        super().__init__(self.answer.body["errors"][0]["message"])
        self.decision = decision
