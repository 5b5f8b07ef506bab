"""The nemesis: faults injected on a schedule, each healed in ``finally`` whatever happens.

Every ``interval`` seconds the next fault of a shuffled cycle over the selected ones starts (a
fault still running is not started twice; faults of different kinds overlap freely, and two
gateway faults never pick the same gateway). Each is recorded in the history, from injection to
healing, with what it hit.

* ``pause``: SIGSTOP a busy gateway (one with requests in flight and, unless the build is
  weakened, range locks held in Redis) for ``3 x lock TTL``, so its locks expire under it; SIGCONT.
* ``kill``: SIGKILL a busy gateway mid-request; restart it on the same port.
* ``redis-restart``: SIGKILL Redis, keep it down for a while, restart it empty.
* ``redis-latency``: the proxy delays everything to and from Redis by 0.2-1.5 s.
* ``redis-drop``: the proxy resets every connection to Redis and refuses new ones for a while.
* ``pg-terminate``: ``pg_terminate_backend`` on every gateway connection, three times in a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from booking_gateway.torture.clients import Endpoint
from booking_gateway.torture.history import Recorder
from booking_gateway.torture.procs import GatewayProcess, RedisServer
from booking_gateway.torture.proxy import FaultyProxy
from booking_gateway.torture.scratch import ScratchDatabase

log = logging.getLogger(__name__)

FAULTS = ("pause", "kill", "redis-restart", "redis-latency", "redis-drop", "pg-terminate")

_BUSY_WAIT_S = 2.0


class _Skipped(Exception):
    """Nothing to fault right now (every gateway is already held by another fault)."""
_DOWN_S = 3.0


@dataclass
class Targets:
    gateways: list[GatewayProcess]
    redis: RedisServer
    proxy: FaultyProxy
    database: ScratchDatabase
    endpoint: Endpoint
    lock_ttl_s: float
    weakened: bool = False
    #: gateways a fault currently holds (paused, killed)
    busy: set[str] = field(default_factory=set)


class Nemesis:
    def __init__(self, targets: Targets, faults: Sequence[str], interval_s: float, rng: random.Random,
                 clock: Callable[[], float], recorder: Recorder) -> None:
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        self.t = targets
        self.faults = list(faults)
        self.interval_s = interval_s
        self.rng = rng
        self.clock = clock
        self.recorder = recorder
        self.active: dict[str, asyncio.Task[None]] = {}
        self.injected: dict[str, int] = dict.fromkeys(FAULTS, 0)
        self._inject: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
            "pause": self._pause, "kill": self._kill, "redis-restart": self._redis_restart,
            "redis-latency": self._redis_latency, "redis-drop": self._redis_drop,
            "pg-terminate": self._pg_terminate}

    async def run(self, stop: asyncio.Event) -> None:
        """Start faults on schedule until ``stop``; then heal everything that is still faulted."""
        try:
            for name in self._cycle():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval_s)
                if stop.is_set():
                    return
                if name not in self.active:
                    self.active[name] = asyncio.create_task(self._run_one(name), name=f"fault-{name}")
        finally:
            await self.heal()

    async def heal(self, grace_s: float = 10.0) -> None:
        """Let the faults in progress run their course (they heal themselves), then cut short any
        that has not within ``grace_s``."""
        tasks = list(self.active.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _cycle(self) -> itertools.chain[str]:
        def rounds() -> Any:
            while self.faults:
                order = list(self.faults)
                self.rng.shuffle(order)
                yield order
        return itertools.chain.from_iterable(rounds())

    async def _run_one(self, name: str) -> None:
        """Inject, hold, heal; record it (an injection that failed is recorded, not counted)."""
        record: dict[str, Any] = {"type": "fault", "fault": name, "target": "", "start": round(self.clock(), 6),
                                  "detail": {}}
        try:
            await self._inject[name](record)
        except _Skipped:
            return
        except asyncio.CancelledError:
            record["detail"]["cut_short"] = True
            raise
        except Exception as err:  # reported in the history and the log, not fatal to the run
            log.warning("fault %s failed: %s", name, err)
            record["detail"]["error"] = f"{type(err).__name__}: {err}"
        finally:
            self.active.pop(name, None)
            if record.get("target"):
                record["end"] = round(self.clock(), 6)
                self.recorder.write(record)
                if "error" not in record["detail"]:
                    self.injected[name] += 1

    # --- gateway faults ---------------------------------------------------------------------

    async def _busy_gateway(self, record: dict[str, Any], want_locks: bool) -> GatewayProcess:
        """A gateway no other fault holds, preferably with requests in flight and locks held."""
        free = [g for g in self.t.gateways if g.name not in self.t.busy and g.alive]
        if not free:
            raise _Skipped
        gateway = self.rng.choice(free)
        self.t.busy.add(gateway.name)
        record["target"] = gateway.name
        deadline = self.clock() + _BUSY_WAIT_S
        while self.clock() < deadline:
            if self.t.endpoint.in_flight.get(gateway.name, 0) > 0 and (
                    not want_locks or await self._locks_held() > 0):
                break
            await asyncio.sleep(0.01)
        record["detail"]["in_flight"] = self.t.endpoint.in_flight.get(gateway.name, 0)
        if want_locks:
            record["detail"]["locks_held"] = await self._locks_held()
        return gateway

    async def _locks_held(self) -> int:
        """Lock entries in Redis right now (all gateways'; read directly, not through the proxy)."""
        try:
            return await _count_lock_entries(self.t.redis.port)
        except (OSError, TimeoutError, RedisError):
            return 0

    async def _pause(self, record: dict[str, Any]) -> None:
        try:
            gateway = await self._busy_gateway(record, want_locks=not self.t.weakened)
            hold = 3 * self.t.lock_ttl_s
            record["detail"]["seconds"] = hold
            try:
                gateway.pause()
                await asyncio.sleep(hold)
            finally:
                gateway.resume()
        finally:
            self.t.busy.discard(record["target"])

    async def _kill(self, record: dict[str, Any]) -> None:
        try:
            gateway = await self._busy_gateway(record, want_locks=False)
            try:
                gateway.kill()
                await asyncio.sleep(0.5)
            finally:
                await gateway.start()
        finally:
            self.t.busy.discard(record["target"])

    # --- Redis faults -----------------------------------------------------------------------

    async def _redis_restart(self, record: dict[str, Any]) -> None:
        record["target"] = "redis"
        record["detail"]["locks_held"] = await self._locks_held()
        try:
            self.t.redis.kill()
            self.t.proxy.cut()
            await asyncio.sleep(_DOWN_S)
        finally:
            await self.t.redis.start()

    async def _redis_latency(self, record: dict[str, Any]) -> None:
        record["target"] = "proxy"
        latency = round(self.rng.uniform(0.2, 1.5), 3)
        record["detail"]["latency_s"] = latency
        try:
            self.t.proxy.set_latency(latency)
            await asyncio.sleep(_DOWN_S)
        finally:
            self.t.proxy.set_latency(0.0)

    async def _redis_drop(self, record: dict[str, Any]) -> None:
        record["target"] = "proxy"
        refused = self.t.proxy.refused
        try:
            self.t.proxy.drop()
            await asyncio.sleep(_DOWN_S)
        finally:
            self.t.proxy.heal()
            record["detail"]["refused"] = self.t.proxy.refused - refused

    # --- PostgreSQL -------------------------------------------------------------------------

    async def _pg_terminate(self, record: dict[str, Any]) -> None:
        record["target"] = "postgres"
        ended = record["detail"]["terminated"] = []
        for _ in range(3):
            ended.append(await self.t.database.terminate_gateway_backends())
            await asyncio.sleep(0.3)


async def _count_lock_entries(port: int) -> int:
    """ZCARD over every lock zset of the run's own Redis."""
    async with Redis(host="127.0.0.1", port=port, socket_timeout=1.0, socket_connect_timeout=1.0) as client:
        total = 0
        async for key in client.scan_iter(match="*:lock:*", count=1000):
            total += int(await client.zcard(key))
        return total
