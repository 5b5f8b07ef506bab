"""Running without Redis, for the features that may (the range lock, the rate limiter).

While Redis fails, a feature degrades (bookings go unlocked, rate limits open) instead of
failing requests. :class:`Outage` keeps the state: whether it is degraded, the last error,
when to probe Redis again (one request per interval tries, the others skip it at once,
so an outage does not add a timeout to every request), and at most one warning every few
seconds, so a long outage does not flood the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

#: Errors meaning "Redis is unreachable right now", as opposed to a bug (logged with a traceback).
UNREACHABLE: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError, OSError)
#: At most one "unavailable" warning per this many seconds.
WARN_EVERY_S = 5.0


@dataclass
class Outage:
    #: e.g. "Redis range lock": the subject of the log lines
    feature: str
    #: what happens meanwhile, e.g. "bookings continue unlocked, protected by the database constraint"
    consequence: str
    #: the state restored, e.g. "bookings are locked again"
    recovery: str
    probe_interval_s: float
    monotonic: Callable[[], float]
    logger: logging.Logger
    degraded: bool = False
    last_failure_at: datetime | None = None
    last_error: str | None = None
    _next_probe_at: float = field(default=0.0, repr=False)
    _last_warning_at: float | None = field(default=None, repr=False)

    def skip(self) -> bool:
        """While degraded: True (do without Redis), except for one probe per interval."""
        if not self.degraded:
            return False
        now = self.monotonic()
        if now < self._next_probe_at:
            return True
        self._next_probe_at = now + self.probe_interval_s  # this caller probes; the others skip
        return False

    def failed(self, err: BaseException, during: str | None = None) -> None:
        now = self.monotonic()
        self.degraded = True
        self.last_failure_at = datetime.now(UTC)
        self.last_error = f"{type(err).__name__}: {err}"
        self._next_probe_at = now + self.probe_interval_s
        if self._last_warning_at is not None and now - self._last_warning_at < WARN_EVERY_S:
            return
        self._last_warning_at = now
        unexpected = not isinstance(err, UNREACHABLE)
        self.logger.log(logging.ERROR if unexpected else logging.WARNING, "%s unavailable%s (%s); %s",
                        self.feature, f" during {during}" if during else "", self.last_error,
                        self.consequence, exc_info=err if unexpected else None)

    def answered(self) -> None:
        """Redis answered: leave degraded mode, if in it."""
        if self.degraded:
            self.degraded = False
            self.logger.info("%s available again; %s", self.feature, self.recovery)
