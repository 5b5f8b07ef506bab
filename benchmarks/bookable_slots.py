"""bookableSlots latency: 50 resources x 1 week of 30-minute slots, over HTTP, next to the anchor.

    python -m benchmarks.bookable_slots                # 300 timed requests each, interleaved
    python -m benchmarks.bookable_slots --requests 30  # quicker (the smoke test runs this)
    python -m benchmarks.run --bookable-slots          # the same, from the suite's entry point

The 50 resources (Europe/Berlin) open 07:00-22:00 every day with a 30-minute step and a 10-minute
buffer after each booking, and hold 20 bookings each in the measured week. One client sends
requests one after another (latency, not throughput), alternating between the gateway's
``bookableSlots`` and the stock Strawberry hello world, so that both see the same machine; the
issue's target is p99 < 50 ms for the gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from statistics import quantiles

import httpx

from benchmarks.run import (
    REDIS_URL,
    cli,
    create_database,
    drop_database,
    free_port,
    gateway,
    log,
    server,
    uvicorn,
)

RESOURCES = 50
BOOKINGS_PER_RESOURCE = 20
TARGET_P99_MS = 50.0
RULES = {"weekly": [{"day": d, "ranges": [{"start": "07:00", "end": "22:00"}]}
                    for d in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")],
         "slotStepMinutes": 30, "bufferAfterMinutes": 10}
SLOTS = """query($ids: [ID!]!, $window: TimeWindowInput!) {
  bookableSlots(resourceIds: $ids, window: $window, durationMinutes: 30, stepMinutes: 30) {
    resourceId version starts } }"""
HELLO = {"query": "{ hello }"}


def monday_in_a_month() -> datetime:
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=30)
    return day - timedelta(days=day.weekday())


def seed(url: str, key: str, week: datetime) -> list[str]:
    """The resources, their rules and bookings, through the gateway's own API."""
    create = "mutation($i: CreateResourceInput!) { createResource(input: $i) { resource { id } } }"
    rules = "mutation($i: SetResourceRulesInput!) { setResourceRules(input: $i) { error { code } } }"
    book = "mutation($i: BookSlotInput!) { bookSlot(input: $i) { error { code } } }"
    ids = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        def call(query: str, data: dict[str, object]) -> dict[str, object]:
            return dict(client.post("/graphql", json={"query": query, "variables": {"i": data}}).json()["data"])

        for r in range(RESOURCES):
            made = call(create, {"clientMutationId": f"slots-{r}", "name": f"room {r}", "timeZone": "Europe/Berlin"})
            rid = made["createResource"]["resource"]["id"]  # type: ignore[index]
            ids.append(rid)
            call(rules, {"clientMutationId": f"slots-rules-{r}", "resourceId": rid, "expectedVersion": 0,
                         "rules": RULES})
            for b in range(BOOKINGS_PER_RESOURCE):  # ~3 a day, at 09:00, 13:00 and 17:00 Berlin time
                start = week + timedelta(days=b // 3, hours=8 + 4 * (b % 3) + r % 3)
                call(book, {"clientMutationId": f"slots-book-{r}-{b}", "resourceId": rid,
                            "start": start.isoformat(), "end": (start + timedelta(minutes=60)).isoformat()})
    return ids


async def measure(gateway_url: str, anchor_url: str, key: str, ids: list[str], week: datetime,
                  requests: int) -> tuple[list[float], list[float], int]:
    """Latencies (ms) of the gateway and the anchor, interleaved; the starts of one answer."""
    window = {"start": week.isoformat(), "end": (week + timedelta(days=7)).isoformat()}
    body = {"query": SLOTS, "variables": {"ids": ids, "window": window}}
    gw, anchor, starts = [], [], 0
    async with httpx.AsyncClient(timeout=30) as client:
        headers = {"Authorization": f"Bearer {key}"}
        for i in range(requests + 5):  # the first five warm up
            began = time.perf_counter()
            response = await client.post(gateway_url, json=body, headers=headers)
            took = (time.perf_counter() - began) * 1000
            data = response.json()
            if "errors" in data:
                raise RuntimeError(f"bookableSlots failed: {data['errors']}")
            starts = sum(len(r["starts"]) for r in data["data"]["bookableSlots"])
            began = time.perf_counter()
            (await client.post(anchor_url, json=HELLO)).raise_for_status()
            if i >= 5:
                gw.append(took)
                anchor.append((time.perf_counter() - began) * 1000)
    return gw, anchor, starts


def percentiles(values: list[float]) -> tuple[float, float]:
    cuts = quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    name, db_url = asyncio.run(create_database())
    try:
        env = {"BOOKING_DATABASE_URL": db_url, "BOOKING_REDIS_URL": REDIS_URL, "BOOKING_LOG_LEVEL": "WARNING",
               "BOOKING_REDIS_PREFIX": f"bench-{secrets.token_hex(3)}", "BOOKING_ENV": "production",
               "BOOKING_RATE_LIMIT_PER_S": "0"}
        cli("migrate", env=env)
        key = cli("tenant", "create", "bench", env=env).strip().splitlines()[-1].split()[-1]
        port, anchor_port = free_port(), free_port()
        with server(gateway(port, args.workers), env, port, "/healthz"), \
                server(uvicorn("benchmarks.anchors.hello:stock", anchor_port, args.workers), {}, anchor_port, "/"):
            week = monday_in_a_month()
            log(f"seeding {RESOURCES} resources with rules and {BOOKINGS_PER_RESOURCE} bookings each")
            ids = seed(f"http://127.0.0.1:{port}", key, week)
            gw, anchor, starts = asyncio.run(measure(f"http://127.0.0.1:{port}/graphql",
                                                     f"http://127.0.0.1:{anchor_port}/", key, ids, week,
                                                     args.requests))
    finally:
        asyncio.run(drop_database(name))
    print(report(gw, anchor, starts))
    return 0


def report(gw: list[float], anchor: list[float], starts: int) -> str:
    gw50, gw99 = percentiles(gw)
    a50, a99 = percentiles(anchor)
    met = "MET" if gw99 < TARGET_P99_MS else "NOT MET"
    return "\n".join([
        f"bookableSlots, {RESOURCES} resources x 1 week, 30-minute slots ({starts:,} starts per answer), "
        f"{len(gw)} sequential requests over HTTP",
        f"  gateway bookableSlots:    p50 {gw50:6.1f} ms  p99 {gw99:6.1f} ms",
        f"  stock strawberry hello:   p50 {a50:6.1f} ms  p99 {a99:6.1f} ms  (the anchor, same run, interleaved)",
        f"  ratio gateway/anchor:     p50 {gw50 / a50:6.1f}x   p99 {gw99 / a99:6.1f}x",
        f"  target p99 < {TARGET_P99_MS:g} ms: {met}",
    ])


if __name__ == "__main__":
    sys.exit(main())
