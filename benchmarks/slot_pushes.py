"""What a bookableSlotsChanged push costs next to an availabilityChanged one (the baseline).

    python -m benchmarks.slot_pushes                 # 200 bookings per phase
    python -m benchmarks.slot_pushes --bookings 30   # quicker

In one process, on a scratch database and the real Redis: 50 resources (Europe/Berlin, open
07:00-22:00 daily, 30-minute step, 10-minute buffer after), 20 bookings each in the week.
Two measurements, each printed with its ratio to the availability baseline:

- one read, as the hub makes it per touched view: one resource's availability of the week vs
  its bookable 30-minute starts of the week;
- one push, end to end: a listener on all 50 resources over the week, and bookings made one
  after another on random resources; from the booking's answer to the event in the listener's
  mailbox. First with an availability listener, then with a slots listener.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from statistics import quantiles
from typing import Any
from uuid import UUID

from benchmarks.bookable_slots import BOOKINGS_PER_RESOURCE, RESOURCES, RULES, monday_in_a_month
from benchmarks.run import REDIS_URL, create_database, drop_database, log
from booking_gateway.app import Gateway
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.postgres.migrate import migrate
from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory
from booking_gateway.infra.settings import Settings
from booking_gateway.live.hub import Listener, availability_reader, slots_reader
from booking_gateway.live.routing import SlotsView, View
from booking_gateway.resolvers.context import Context
from booking_gateway.schema.build import build_schema
from booking_gateway.schema.ids import parse_global_id, to_global_id

SCHEMA = build_schema()
CREATE = "mutation($i: CreateResourceInput!) { createResource(input: $i) { resource { id } } }"
SET_RULES = "mutation($i: SetResourceRulesInput!) { setResourceRules(input: $i) { error { code } } }"
BOOK = "mutation($i: BookSlotInput!) { bookSlot(input: $i) { error { code } } }"


class Api:
    def __init__(self, gateway: Gateway, tenant_id: UUID) -> None:
        self._context = Context(tenant_id, gateway.deps)

    async def call(self, query: str, data: dict[str, Any]) -> dict[str, Any]:
        result = await SCHEMA.execute(query, variable_values={"i": data}, context_value=self._context)
        if result.errors:
            raise RuntimeError(result.errors)
        assert result.data is not None
        return result.data


async def seed(api: Api, week: datetime) -> list[UUID]:
    ids = []
    for r in range(RESOURCES):
        made = await api.call(CREATE, {"clientMutationId": f"r-{r}", "name": f"room {r}",
                                       "timeZone": "Europe/Berlin"})
        rid = made["createResource"]["resource"]["id"]
        ids.append(parse_global_id(rid, "id")[1])
        await api.call(SET_RULES, {"clientMutationId": f"rules-{r}", "resourceId": rid, "expectedVersion": 0,
                                   "rules": RULES})
        for b in range(BOOKINGS_PER_RESOURCE):
            start = week + timedelta(days=b // 3, hours=8 + 4 * (b % 3) + r % 3)
            await api.call(BOOK, {"clientMutationId": f"b-{r}-{b}", "resourceId": rid, "start": start.isoformat(),
                                  "end": (start + timedelta(minutes=60)).isoformat()})
    return ids


async def reads(gateway: Gateway, tenant_id: UUID, ids: list[UUID], week: datetime,
                rounds: int) -> tuple[list[float], list[float]]:
    """Milliseconds per read: availability, then slots, of one resource, interleaved."""
    window = _week(week)
    availability, slots = availability_reader(gateway.deps), slots_reader(gateway.deps)
    a_ms, s_ms = [], []
    for i in range(rounds + 10):
        rid = ids[i % len(ids)]
        began = time.perf_counter()
        assert await availability(tenant_id, rid, window) is not None
        middle = time.perf_counter()
        assert await slots(tenant_id, rid, SlotsView(window, 30, 30)) is not None
        ended = time.perf_counter()
        if i >= 10:
            a_ms.append((middle - began) * 1000)
            s_ms.append((ended - middle) * 1000)
    return a_ms, s_ms


async def pushes(gateway: Gateway, api: Api, tenant_id: UUID, ids: list[UUID], view: View,
                 bookings: int, rng: random.Random) -> list[float]:
    """Milliseconds from each booking's answer to its event in a listener of all ``ids``."""
    window = view.window if isinstance(view, SlotsView) else view
    took: list[float] = []
    async with gateway.live.listen(tenant_id, ids, view) as listener:
        while len(took) < bookings:
            rid = rng.choice(ids)
            start = window.start + timedelta(days=rng.randrange(7), minutes=30 * rng.randrange(16, 40))
            answer = await api.call(BOOK, {"clientMutationId": secrets.token_hex(8),
                                           "resourceId": to_global_id("Resource", rid), "start": start.isoformat(),
                                           "end": (start + timedelta(minutes=30)).isoformat()})
            done = time.perf_counter()
            if answer["bookSlot"]["error"] is not None:
                continue  # taken already: nothing changed, nothing to wait for
            await _next(listener)
            took.append((time.perf_counter() - done) * 1000)
    return took


async def _next(listener: Listener) -> None:
    async with asyncio.timeout(10):
        async for _ in listener.events():
            return


def _week(week: datetime) -> TimeWindow:
    return TimeWindow(week, week + timedelta(days=7))


async def run(db_url: str, bookings: int) -> str:
    gateway = Gateway(Settings(database_url=db_url, redis_url=REDIS_URL, log_level="WARNING",
                               redis_prefix=f"bench-{secrets.token_hex(3)}", rate_limit_per_s=0))
    try:
        gateway.live.start()
        tenant = await PostgresTenantDirectory(gateway.engine).create_tenant("bench")
        api = Api(gateway, tenant.id)
        week = monday_in_a_month()
        log(f"seeding {RESOURCES} resources with rules and {BOOKINGS_PER_RESOURCE} bookings each")
        ids = await seed(api, week)
        a_read, s_read = await reads(gateway, tenant.id, ids, week, max(bookings, 50))
        rng = random.Random(7)
        log(f"{bookings} bookings with an availability listener, then {bookings} with a slots listener")
        a_push = await pushes(gateway, api, tenant.id, ids, _week(week), bookings, rng)
        s_push = await pushes(gateway, api, tenant.id, ids, SlotsView(_week(week), 30, 30), bookings, rng)
    finally:
        await gateway.stop()
    return report(a_read, s_read, a_push, s_push)


def report(a_read: list[float], s_read: list[float], a_push: list[float], s_push: list[float]) -> str:
    def row(label: str, values: list[float], base: list[float]) -> str:
        p50, p99 = _pcts(values)
        b50, b99 = _pcts(base)
        return (f"  {label:<34} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms   "
                f"ratio p50 {p50 / b50:5.2f}x  p99 {p99 / b99:5.2f}x")

    return "\n".join([
        f"bookableSlotsChanged vs availabilityChanged, {RESOURCES} resources x 1 week, 30-minute starts, "
        f"{datetime.now(UTC):%Y-%m-%d}",
        "one read of one resource (what the hub does per touched view):",
        row("availability (baseline)", a_read, a_read),
        row("bookable slots", s_read, a_read),
        "one push, booking answered -> event in a listener of all 50 resources:",
        row("availabilityChanged (baseline)", a_push, a_push),
        row("bookableSlotsChanged", s_push, a_push),
    ])


def _pcts(values: list[float]) -> tuple[float, float]:
    cuts = quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=200)
    args = parser.parse_args(argv)
    name, db_url = asyncio.run(create_database())
    try:
        migrate(db_url)
        print(asyncio.run(run(db_url, args.bookings)))
    finally:
        asyncio.run(drop_database(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
