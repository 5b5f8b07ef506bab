"""The Redis range lock: requests for overlapping windows of a resource queue, the others never wait.

It is coordination, not truth (the database's exclusion constraint is): it makes competing
bookings wait their turn instead of racing into PostgreSQL and aborting. Hence the choices below.

* Per resource, one zset of live entries ``<token>:<start_us>:<end_us>`` scored by expiry (ms),
  under the resource's hash tag; it expires with its longest-lived entry and disappears with its
  last, so an idle resource leaves no key. Three Lua scripts (``lua/``) acquire, release and
  extend atomically, on one Redis or on Redis Cluster. An uncontended acquire and a release are
  one round trip each (EVALSHA; redis-py reloads a script on NOSCRIPT by itself).
* No fencing tokens: the store could not check them, and does not need to (a holder whose
  entry expired under it is stopped by the exclusion constraint, not by the lock).
* "Now" is the gateway's clock passed to the scripts (``now_ms``, injectable so tests can expire
  entries without sleeping). Gateways therefore need roughly synchronised clocks: a skew much
  smaller than the TTL, or a fast clock may drop a slow gateway's entry as expired.
* Entries expire after ``ttl_ms``, so a crashed holder never blocks a window for long; a body
  that runs past a third of the TTL gets its entries extended in the background.
* Overlapping requests retry with capped exponential back-off and full jitter (no thundering
  herd, no FIFO fairness) until ``wait_ms``, then :class:`Contended`. A request blocked by a
  hold of its own process waits for that hold's release instead (:mod:`local_holds`): no
  refused calls, and it re-reads the database once, right after the holder committed.
* If Redis is unreachable the lock yields an unheld :class:`Lease` and reports itself degraded:
  bookings go on, protected by the constraint. While degraded, one request per
  ``probe_interval_ms`` tries Redis again, so an outage does not add a timeout to every request.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from booking_gateway.domain.errors import Contended
from booking_gateway.domain.ports import Claim, ConflictSpace, Lease, LockAbandoned, RangeLock
from booking_gateway.infra.deadlines import Deadlines, Entry
from booking_gateway.infra.redis import outbox
from booking_gateway.infra.redis.keys import lock_key
from booking_gateway.infra.redis.local_holds import LocalHold, LocalHolds
from booking_gateway.infra.redis.outage import Outage
from booking_gateway.infra.redis.scripts import ScriptRunner
from booking_gateway.infra.unique_ids import UniqueIds

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

    from booking_gateway.infra.settings import Settings

_log = logging.getLogger(__name__)

BACKOFF_BASE_MS = 4.0
BACKOFF_CAP_MS = 64.0
#: Full jitter may draw ~0; sleeping at least this long keeps a crowd of waiters off Redis.
BACKOFF_FLOOR_MS = 1.0
#: The longest a waiter waits for a hold of its own process before it asks Redis again.
LOCAL_WAIT_CAP_MS = 64.0
#: Contended.retry_after_ms is at most this: holders usually release long before they expire.
RETRY_AFTER_CAP_MS = 250

_LUA = files(__package__) / "lua"
ACQUIRE_LUA = (_LUA / "acquire.lua").read_text(encoding="utf-8")
RELEASE_LUA = (_LUA / "release.lua").read_text(encoding="utf-8")
EXTEND_LUA = (_LUA / "extend.lua").read_text(encoding="utf-8")

#: Hold tokens: unique per hold across gateways (entries with one token never block each other).
_new_token = UniqueIds()

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def backoff_ms(attempt: int, *, rand: float, hint_ms: float, remaining_ms: float,
               base_ms: float = BACKOFF_BASE_MS, cap_ms: float = BACKOFF_CAP_MS) -> float:
    """How long to sleep before retry ``attempt`` (0 for the first retry) of a refused claim.

    Full jitter over ``min(cap, base * 2**attempt)`` (``rand`` in [0, 1) draws the point), at
    least :data:`BACKOFF_FLOOR_MS`, but never longer than ``hint_ms`` (when the blocking entry
    expires anyway) nor ``remaining_ms`` (the wait's deadline). Pure, so it is unit-tested.
    """
    ceiling = min(cap_ms, base_ms * 2.0 ** min(attempt, 32))
    delay = max(BACKOFF_FLOOR_MS, rand * ceiling)
    return max(0.0, min(delay, hint_ms, remaining_ms))


def retry_after_ms(hint_ms: int) -> int:
    """The ``retryAfterMs`` of a Contended answer, from the blocker's remaining lifetime."""
    return max(1, min(hint_ms, RETRY_AFTER_CAP_MS))


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def epoch_us(value: datetime) -> int:
    """Exact integer epoch microseconds (no float rounding) of an aware datetime."""
    return (value - _EPOCH) // _MICROSECOND


@dataclass(frozen=True, slots=True)
class LockEntry:
    """Where one claim of a hold lives: its resource's keys and its window in epoch microseconds."""

    lock_key: str
    start_us: int
    end_us: int


@dataclass(frozen=True, slots=True)
class RedisLease(Lease):
    """A held lease, with what :meth:`RedisRangeLock.extend` needs to find its entries."""

    token: str = ""
    entries: tuple[LockEntry, ...] = ()
    local: tuple[LocalHold, ...] = ()


class _Abandoned(Exception):
    """The caller no longer wants the lock (its window was taken meanwhile)."""


class _Refused(Exception):
    def __init__(self, hint_ms: int) -> None:
        super().__init__(hint_ms)
        self.hint_ms = hint_ms


class RedisRangeLock:
    """The :class:`~booking_gateway.domain.ports.RangeLock` port on Redis (or Valkey).

    ``client`` is owned by the caller (close it after :meth:`aclose`). ``now_ms`` is the wall
    clock the entries' expiry is measured with; ``monotonic``, ``sleep`` and ``rand`` drive the
    wait and its jitter; all four are injectable for tests.
    """

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "bg",
        wait_ms: int = 2000,
        ttl_ms: int = 10_000,
        now_ms: Callable[[], int] = wall_clock_ms,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        command_timeout_ms: int = 500,
        probe_interval_ms: int = 1000,
        auto_extend: bool = True,
        runner: ScriptRunner | None = None,
    ) -> None:
        if ttl_ms <= 0 or wait_ms < 0 or command_timeout_ms <= 0 or probe_interval_ms < 0:
            raise ValueError("ttl_ms and command_timeout_ms must be positive, wait_ms and "
                             "probe_interval_ms not negative")
        self._client = client
        self._prefix = prefix
        self._wait_s = wait_ms / 1000
        self._ttl_ms = ttl_ms
        self._now_ms = now_ms
        self._sleep = sleep
        self._monotonic = monotonic
        self._rand = rand
        self._timeout_s = command_timeout_ms / 1000
        self._deadlines = Deadlines(self._timeout_s)
        self._auto_extend = auto_extend
        self._keep_alive_timers = Deadlines(ttl_ms / 3000)  # extend after a third of the TTL
        self._runner = runner
        self._acquire_script: AsyncScript = client.register_script(ACQUIRE_LUA)
        self._release_script: AsyncScript = client.register_script(RELEASE_LUA)
        self._extend_script: AsyncScript = client.register_script(EXTEND_LUA)
        self._outage = Outage("Redis range lock", "bookings continue unlocked, protected by the database constraint",
                              "bookings are locked again", probe_interval_ms / 1000, monotonic, _log)
        self._last_failure_ms: int | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._local = LocalHolds()

    @classmethod
    def from_settings(cls, client: Redis, settings: Settings, **overrides: Any) -> RedisRangeLock:
        """Prefix, wait and TTL from ``BOOKING_REDIS_PREFIX``, ``_LOCK_WAIT_MS``, ``_LOCK_TTL_MS``."""
        options: dict[str, Any] = {"prefix": settings.redis_prefix, "wait_ms": settings.lock_wait_ms,
                                   "ttl_ms": settings.lock_ttl_ms}
        return cls(client, **(options | overrides))

    # --- health -----------------------------------------------------------------------------

    @property
    def degraded(self) -> bool:
        """True since Redis last failed, until it next answers an acquire."""
        return self._outage.degraded

    @property
    def last_failure_ms(self) -> int | None:
        """When Redis last failed, epoch ms of the ``now_ms`` clock; None if it never did."""
        return self._last_failure_ms

    @property
    def last_failure_at(self) -> datetime | None:
        ms = self._last_failure_ms
        return None if ms is None else _EPOCH + timedelta(milliseconds=ms)

    async def ping(self) -> bool:
        """Whether Redis answers now (for /readyz); never raises, does not change ``degraded``."""
        try:
            async with asyncio.timeout(self._timeout_s):
                return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def aclose(self) -> None:
        """Wait for background releases and extensions; call before closing the client."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    # --- the port ---------------------------------------------------------------------------

    @asynccontextmanager
    async def hold(self, space: ConflictSpace, *,
                   still_wanted: Callable[[], Awaitable[bool]] | None = None) -> AsyncIterator[Lease]:
        """Hold every claim of ``space`` (in its order) for the body; release in ``finally``.

        Raises :class:`Contended` when a claim stays blocked past the wait (claims already
        taken are released first), and :class:`LockAbandoned` when ``still_wanted``, asked
        between attempts, says the caller no longer needs the lock. Yields
        ``Lease(held=False)`` when Redis is unreachable. Availability changes published in
        the body go out with the release, in the same round trip.
        """
        lease = await self._acquire(space, still_wanted)
        if not isinstance(lease, RedisLease):
            yield lease
            return
        keep_alive = _KeepAlive(self, lease, self._keep_alive_timers) if self._auto_extend else None
        with outbox.collecting() as publications:
            try:
                yield lease
            finally:
                if keep_alive is not None:
                    keep_alive.stop()
                try:
                    await self._release(lease.token, lease.entries, publications)
                finally:
                    for entry, local in zip(lease.entries, lease.local, strict=True):
                        self._local.remove(entry.lock_key, local)

    async def await_known_holds(self, space: ConflictSpace) -> None:
        """Wait while a hold of this process overlaps ``space``: at most :data:`LOCAL_WAIT_CAP_MS`
        in all. Holds of other processes are not looked for (that would cost a round trip)."""
        if not self._local:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LOCAL_WAIT_CAP_MS / 1000
        for claim in space.claims:
            entry = self._entry(space, claim)
            while (blocker := self._local.blocker(entry.lock_key, "", entry.start_us, entry.end_us)) is not None:
                remaining_s = deadline - loop.time()
                if remaining_s <= 0 or not await LocalHolds.released(blocker, remaining_s):
                    return

    async def extend(self, lease: Lease) -> bool:
        """Push the expiry of every entry of ``lease`` to now + TTL.

        False if any entry had expired or been released, or Redis failed: the caller can no
        longer count on holding the whole conflict space.
        """
        if not isinstance(lease, RedisLease) or not lease.entries:
            return False
        results = await asyncio.gather(*(self._extend_one(lease.token, e) for e in lease.entries))
        return all(results)

    # --- acquire ----------------------------------------------------------------------------

    async def _acquire(self, space: ConflictSpace,
                       still_wanted: Callable[[], Awaitable[bool]] | None = None) -> Lease:
        if not space.claims:
            return Lease(held=True)
        if self._outage.skip():
            return Lease(held=False)
        token = _new_token()
        entries = tuple(self._entry(space, claim) for claim in space.claims)
        deadline = self._monotonic() + self._wait_s
        taken = 0
        try:
            for entry in entries:
                await self._take(token, entry, deadline, still_wanted)
                taken += 1
        except _Refused as refused:
            await self._release(token, entries[:taken])
            raise Contended(retry_after_ms(refused.hint_ms)) from None
        except _Abandoned:
            await self._release(token, entries[:taken])
            raise LockAbandoned() from None
        except (RedisError, OSError) as err:
            self._record_failure(err)
            # The failed call may have landed (a timeout): release it too, without delaying the
            # request by another timeout. Removing an entry that was never added is harmless.
            self._in_background(self._release(token, entries[: taken + 1]))
            return Lease(held=False)
        except BaseException:
            await self._release(token, entries[: taken + 1])
            raise
        local = tuple(LocalHold(token, e.start_us, e.end_us) for e in entries)
        for entry, hold in zip(entries, local, strict=True):
            self._local.add(entry.lock_key, hold)
        return RedisLease(held=True, token=token, entries=entries, local=local)

    def _entry(self, space: ConflictSpace, claim: Claim) -> LockEntry:
        return LockEntry(
            lock_key(self._prefix, space.tenant_id, claim.resource_id),
            epoch_us(claim.window.start),
            epoch_us(claim.window.end),
        )

    async def _take(self, token: str, entry: LockEntry, deadline: float,
                    still_wanted: Callable[[], Awaitable[bool]] | None = None) -> None:
        """One claim, after retries while overlapping entries block it."""
        attempt = 0
        ask_redis = False  # after a local wait that timed out, Redis decides whatever is held here
        while True:
            blocker = None if ask_redis else self._local.blocker(entry.lock_key, token, entry.start_us,
                                                                 entry.end_us)
            if blocker is not None and (remaining_ms := (deadline - self._monotonic()) * 1000) > 0:
                # Redis would refuse: wait for our own holder's release instead of polling
                released = await LocalHolds.released(blocker, min(remaining_ms, LOCAL_WAIT_CAP_MS) / 1000)
                ask_redis = not released
                if still_wanted is not None and not await still_wanted():
                    raise _Abandoned()
                continue
            ask_redis = False
            reply = await self._call(
                self._acquire_script, [entry.lock_key],
                [self._now_ms(), self._ttl_ms, token, entry.start_us, entry.end_us],
            )
            granted, value = int(reply[0]), int(reply[1])
            self._outage.answered()  # granted or not, Redis answered
            if granted:
                return
            remaining_ms = (deadline - self._monotonic()) * 1000
            if remaining_ms <= 0:
                raise _Refused(value)
            delay = backoff_ms(attempt, rand=self._rand(), hint_ms=value, remaining_ms=remaining_ms)
            await self._sleep(delay / 1000)
            if still_wanted is not None and not await still_wanted():
                raise _Abandoned()
            attempt += 1

    # --- release and extend -----------------------------------------------------------------

    async def _release(self, token: str, entries: Sequence[LockEntry],
                       publications: Sequence[outbox.Publication] = ()) -> None:
        """Remove the hold's own entries (the first also publishes ``publications``); failures
        are logged, never raised (entries expire)."""
        if len(entries) == 1:
            await self._release_one(token, entries[0], publications)
        elif entries:
            await asyncio.gather(*(self._release_one(token, e, publications if i == 0 else ())
                                   for i, e in enumerate(entries)))

    async def _release_one(self, token: str, entry: LockEntry,
                           publications: Sequence[outbox.Publication] = ()) -> None:
        try:
            await self._call(self._release_script, [entry.lock_key],
                             [token, entry.start_us, entry.end_us, *(p for pair in publications for p in pair)])
        except (RedisError, OSError) as err:
            self._record_failure(err, during="release")

    async def _extend_one(self, token: str, entry: LockEntry) -> bool:
        try:
            reply = await self._call(self._extend_script, [entry.lock_key],
                                     [self._now_ms(), self._ttl_ms, token, entry.start_us, entry.end_us])
        except (RedisError, OSError) as err:
            self._record_failure(err, during="extend")
            return False
        return int(reply) == 1

    async def _call(self, script: AsyncScript, keys: list[str], args: Sequence[int | str | bytes]) -> Any:
        if self._runner is not None:
            return await self._runner.run(script, keys, args, self._deadlines)
        with self._deadlines.limit():
            return await script(keys=keys, args=args, client=self._client)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``work`` without awaiting it, referenced until done and awaited by :meth:`aclose`."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # --- degraded mode ----------------------------------------------------------------------

    def _record_failure(self, err: BaseException, during: str = "acquire") -> None:
        self._last_failure_ms = self._now_ms()
        self._outage.failed(err, during)


class _KeepAlive(Entry):
    """Extends a lease every interval (a third of the TTL) while its body runs.

    An entry on the lock's shared keep-alive timer, not a task nor a timer handle of its own,
    until it first fires: bodies shorter than the interval (all of them, normally) pay an
    append. If an extension finds the lease lost, it stops and warns.
    """

    __slots__ = ("_lease", "_lock", "_loop", "_stopped", "_task", "_timers")

    def __init__(self, lock: RedisRangeLock, lease: RedisLease, timers: Deadlines) -> None:
        self.deadline = 0.0  # Entry's fields, set here: one call less per booking
        self.live = False
        self._lock = lock
        self._lease = lease
        self._timers = timers
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        timers.add(self, self._loop)

    def expire(self) -> None:
        self._task = self._lock._in_background(self._extend())

    async def _extend(self) -> None:
        if await self._lock.extend(self._lease):
            if not self._stopped:
                self._timers.add(self, self._loop)
        elif not self._stopped:
            _log.warning("a range lock lease could not be extended (expired, released or Redis "
                         "failed) while its holder still ran; overlapping requests may proceed, "
                         "the database constraint still holds")

    def stop(self) -> None:
        self._stopped = True
        self._timers.discard(self)
        if self._task is not None and not self._task.done():
            self._task.cancel()


def _implements_port(lock: RedisRangeLock) -> RangeLock:
    """Never called: mypy checks here that the adapter satisfies the port."""
    return lock
