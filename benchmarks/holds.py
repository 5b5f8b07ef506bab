"""Holds next to bookings, in one run: what a hold, a confirm and a booking over an expired hold
cost compared with a plain bookSlot.

    .venv/bin/python -m benchmarks.holds              # 5 s per scenario, 8 concurrent callers
    .venv/bin/python -m benchmarks.holds --seconds 1  # quicker, noisier

In-process, through the real schema, context and adapters (the same ``Gateway`` wiring as
``app.py``) on the PostgreSQL and Redis of the test suite, so HTTP is left out and the ratios
show the use cases themselves. Scenarios, each on fresh windows of one resource:

* ``bookSlot`` (the baseline), ``holdSlot`` (ttlSeconds 900): the same path, one more column.
* ``confirmBooking`` of the live holds just made: one transaction (resource lock, row lock,
  update, version bump, outcome).
* ``bookSlot over an expired hold``: every window was held with ttlSeconds 1 and has expired
  (no sweeper runs), so each commit ends the expired hold before its insert.

``benchmarks.run`` runs it after its rounds and prints the table below its own.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import quantiles
from typing import Any
from uuid import UUID

ADMIN_URL = os.environ.get("BOOKING_BENCH_ADMIN_URL", os.environ.get(
    "BOOKING_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
REDIS_URL = os.environ.get("BOOKING_BENCH_REDIS_URL", os.environ.get("BOOKING_TEST_REDIS_URL",
                                                                     "redis://127.0.0.1:6379/0"))
DAY = datetime(2033, 1, 3, tzinfo=UTC)
SLOT = timedelta(minutes=30)
FIELDS = "booking { id version status } error { code message }"


@dataclass
class Row:
    name: str
    latencies_ms: list[float]
    seconds: float
    errors: int

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def pct(self, q: int) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        return quantiles(self.latencies_ms, n=100)[q - 1]


class Bench:
    def __init__(self, execute: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]], room: str) -> None:
        self.execute = execute
        self.room = room
        self._slots = itertools.count()
        self._cmids = itertools.count()

    def window(self) -> tuple[str, str]:
        start = DAY + SLOT * next(self._slots)
        return start.isoformat(), (start + SLOT).isoformat()

    def cmid(self) -> str:
        return f"bench-{next(self._cmids)}"

    async def mutate(self, field: str, type_: str, data: dict[str, Any]) -> dict[str, Any]:
        doc = f"mutation($input: {type_}!) {{ m: {field}(input: $input) {{ {FIELDS} }} }}"
        return (await self.execute(doc, {"input": {"clientMutationId": self.cmid(), **data}}))["m"]

    async def book(self, window: tuple[str, str]) -> dict[str, Any]:
        return await self.mutate("bookSlot", "BookSlotInput",
                                 {"resourceId": self.room, "start": window[0], "end": window[1]})

    async def hold(self, window: tuple[str, str], ttl: int) -> dict[str, Any]:
        return await self.mutate("holdSlot", "HoldSlotInput", {"resourceId": self.room, "start": window[0],
                                                               "end": window[1], "ttlSeconds": ttl})

    async def confirm(self, booking: dict[str, Any]) -> dict[str, Any]:
        return await self.mutate("confirmBooking", "ConfirmBookingInput",
                                 {"bookingId": booking["id"], "expectedVersion": booking["version"]})


async def timed(name: str, jobs: list[Callable[[], Awaitable[dict[str, Any]]]], concurrency: int) -> Row:
    latencies: list[float] = []
    errors = 0
    queue = iter(jobs)

    async def worker() -> None:
        nonlocal errors
        for job in queue:
            began = time.perf_counter()
            answer = await job()
            latencies.append((time.perf_counter() - began) * 1000)
            errors += answer["error"] is not None
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Row(name, latencies, time.perf_counter() - began, errors)


async def count_for(seconds: float, bench: Bench, concurrency: int) -> int:
    """How many bookSlot calls fit in ``seconds`` (the baseline sets every scenario's size)."""
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await bench.book(bench.window())
            done += 1
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


async def measure(db_url: str, redis_url: str, seconds: float, concurrency: int = 8) -> list[Row]:
    from booking_gateway.app import Gateway
    from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory
    from booking_gateway.infra.settings import Settings
    from booking_gateway.resolvers.context import Context
    from booking_gateway.schema.build import build_schema

    settings = Settings(database_url=db_url, redis_url=redis_url, redis_prefix=f"bench-holds-{secrets.token_hex(3)}",
                        hold_sweep_interval_ms=0, db_pool_size=concurrency, rate_limit_per_s=0)
    gateway = Gateway(settings)
    try:
        tenant = await PostgresTenantDirectory(gateway.engine).create_tenant(f"bench-holds-{secrets.token_hex(3)}")
        schema = build_schema()

        async def execute(doc: str, variables: dict[str, Any]) -> dict[str, Any]:
            result = await schema.execute(doc, variable_values=variables,
                                          context_value=Context(UUID(str(tenant.id)), gateway.deps))
            if result.errors or result.data is None:
                raise RuntimeError(f"GraphQL errors: {result.errors}")
            return result.data

        made = await execute('mutation { createResource(input: {clientMutationId: "r", name: "Bench"}) '
                             "{ resource { id } } }", {})
        bench = Bench(execute, made["createResource"]["resource"]["id"])
        # warm-up, and the size of every scenario: what the baseline does in about ``seconds``
        n = max(await count_for(min(seconds, 1.0), bench, concurrency) * max(int(seconds), 1), 20)

        booked = [bench.window() for _ in range(n)]
        rows = [await timed("bookSlot", [lambda w=w: bench.book(w) for w in booked], concurrency)]
        held: list[dict[str, Any]] = []

        async def hold_live(w: tuple[str, str]) -> dict[str, Any]:
            answer = await bench.hold(w, 900)
            held.append(answer["booking"])
            return answer
        to_hold = [bench.window() for _ in range(n)]
        rows.append(await timed("holdSlot", [lambda w=w: hold_live(w) for w in to_hold], concurrency))
        rows.append(await timed("confirmBooking (live hold)",
                                [lambda b=b: bench.confirm(b) for b in held if b], concurrency))
        expiring = [bench.window() for _ in range(n)]
        await timed("(setup: holds of 1 s)", [lambda w=w: bench.hold(w, 1) for w in expiring], concurrency)
        await asyncio.sleep(1.1)
        rows.append(await timed("bookSlot over an expired hold", [lambda w=w: bench.book(w) for w in expiring],
                                concurrency))
        return rows
    finally:
        await gateway.stop()


def report(rows: list[Row]) -> str:
    base = rows[0]
    lines = [f"{'holds (in-process, same run)':<34}{'ops/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
             f"{'p50 vs bookSlot':>17}{'ops/s vs bookSlot':>19}"]
    for r in rows:
        lines.append(f"{r.name:<34}{r.rate:>9,.0f}{r.pct(50):>9.2f}{r.pct(99):>9.2f}{r.errors:>8}"
                     f"{r.pct(50) / base.pct(50):>16.2f}x{r.rate / base.rate:>18.2f}x")
    return "\n".join(lines)


async def _standalone(seconds: float, concurrency: int) -> list[Row]:
    from booking_gateway.infra.postgres import scratch
    from booking_gateway.infra.postgres.migrate import migrate

    name = await scratch.create_database(ADMIN_URL, "bg_bench_holds")
    url = scratch.database_url(ADMIN_URL, name)
    try:
        await asyncio.to_thread(migrate, url)
        return await measure(url, REDIS_URL, seconds, concurrency)
    finally:
        await scratch.drop_database(ADMIN_URL, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="about how long the baseline runs")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    print(report(asyncio.run(_standalone(args.seconds, args.concurrency))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
