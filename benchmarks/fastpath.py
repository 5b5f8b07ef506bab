"""The fast path against Strawberry's own view (``BOOKING_FAST_PATH``), side by side, in one run.

    .venv/bin/python -m benchmarks.fastpath [--requests 2000] [--rounds 3]
    .venv/bin/python -m benchmarks.run --fastpath-vs-stock [--smoke]

Both apps come from ``create_app`` (``fast_path`` true and false) on one scratch database and the
test suite's Redis, and are driven in process, one request at a time, through the whole ASGI app
(transport checks, authentication, execution, JSON): what is measured is the gateway's own time
per request, PostgreSQL and Redis round trips included, without a network or a load generator in
between. The two apps alternate, round by round, so a drift of the machine's speed touches both;
the table prints each one's median time per request and the ratio fallback / fast (how many
times faster the fast path is). The numbers are this machine's; the ratios are the point.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import secrets
import sys
import time
from collections.abc import Callable, MutableMapping
from statistics import median
from typing import Any

import orjson
from starlette.types import ASGIApp

from benchmarks.run import REDIS_URL, create_database, drop_database, log
from booking_gateway.app import create_app
from booking_gateway.domain.tenancy import hash_secret, hint_of, new_secret
from booking_gateway.infra.postgres.migrate import migrate
from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory
from booking_gateway.infra.settings import Settings

TYPENAME = "{ __typename }"
BOOK = ("mutation($i: BookSlotInput!) { bookSlot(input: $i) { replayed booking { id start end status version } "
        "error { code message } } }")
AVAILABILITY = ("query($ids: [ID!]!, $w: TimeWindowInput!) { availability(resourceIds: $ids, window: $w) "
                "{ resourceId version busy { start end } free { start end } } }")
HOT_READ = ("query($id: ID!) { node(id: $id) { ... on Resource { id name timeZone "
            "bookings(first: 20) { edges { node { id start end status version reference } } } } } }")
WEEK = {"start": "2030-01-07T00:00:00Z", "end": "2030-01-14T00:00:00Z"}


class Driver:
    """Requests to one app, in process (the ASGI messages of one POST /graphql)."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self.headers = [(b"content-type", b"application/json"), (b"authorization", f"Bearer {key}".encode())]

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = orjson.dumps({"query": query, "variables": variables})
        scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": self.headers, "query_string": b""}
        chunks: list[bytes] = []
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        answer: dict[str, Any] = orjson.loads(b"".join(chunks))
        if status != 200 or answer.get("errors"):
            raise RuntimeError(f"the benchmark's request failed ({status}): {answer}")
        return answer


async def seed(driver: Driver) -> dict[str, str]:
    create = "mutation($i: CreateResourceInput!) { createResource(input: $i) { resource { id } } }"

    async def resource(name: str) -> str:
        answer = await driver.post(create, {"i": {"clientMutationId": f"seed-{name}", "name": name}})
        return str(answer["data"]["createResource"]["resource"]["id"])

    week, hot, free = await resource("week room"), await resource("hot room"), await resource("free room")
    for day in range(7):  # a busy week: 8 bookings a day
        for hour in range(8, 16):
            start = f"2030-01-{7 + day:02}T{hour:02}:00:00Z"
            for room in (week, hot):
                await driver.post(BOOK, {"i": {"clientMutationId": f"seed-{room}-{day}-{hour}", "resourceId": room,
                                               "start": start, "end": f"2030-01-{7 + day:02}T{hour:02}:45:00Z"}})
    return {"week": week, "hot": hot, "free": free}


def scenarios(ids: dict[str, str], tag: str) -> dict[str, Callable[[int], tuple[str, dict[str, Any] | None]]]:
    """name -> the n-th request of the scenario (bookSlot: each a new window on a free resource)."""
    def book(n: int) -> tuple[str, dict[str, Any]]:
        base = 1_924_992_000 + next(_SLOTS) * 120  # from 2031-01-01, two minutes apart, one minute long
        return BOOK, {"i": {"clientMutationId": f"bench-{tag}-{n}", "resourceId": ids["free"],
                            "start": _iso(base), "end": _iso(base + 60)}}

    return {
        "{ __typename }": lambda n: (TYPENAME, None),
        "bookSlot": book,
        "availability, 1 week": lambda n: (AVAILABILITY, {"ids": [ids["week"]], "w": WEEK}),
        "hot read (a resource, 20 bookings)": lambda n: (HOT_READ, {"id": ids["hot"]}),
    }


#: Every booking of a run gets its own window, whichever app makes it (all succeed: equal work).
_SLOTS = itertools.count()


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


async def measure(driver: Driver, request: Callable[[int], tuple[str, dict[str, Any] | None]],
                  start: int, count: int) -> float:
    """Seconds per request over ``count`` requests (numbered from ``start``)."""
    began = time.perf_counter()
    for n in range(start, start + count):
        await driver.post(*request(n))
    return (time.perf_counter() - began) / count


async def run(requests: int, rounds: int) -> str:
    name, db_url = await create_database()
    apps = []
    try:
        await asyncio.to_thread(migrate, db_url)
        base = Settings(database_url=db_url, redis_url=REDIS_URL, redis_prefix=f"bench-{secrets.token_hex(3)}",
                        rate_limit_per_s=0)
        fast_app = create_app(base.model_copy(update={"fast_path": True}))
        stock_app = create_app(base.model_copy(update={"fast_path": False}))
        apps = [fast_app, stock_app]
        directory = PostgresTenantDirectory(fast_app.state.gateway.engine)
        tenant = await directory.create_tenant(f"bench-{secrets.token_hex(3)}")
        key = new_secret()
        await directory.add_key(tenant.id, hash_secret(key), hint_of(key))
        fast, stock = Driver(fast_app, key), Driver(stock_app, key)
        ids = await seed(fast)
        times: dict[str, dict[str, list[float]]] = {}
        for label, driver in (("fast", fast), ("fallback", stock)):  # warm both: caches, pools, plans
            for request in scenarios(ids, f"warm-{label}").values():
                await measure(driver, request, 0, max(10, requests // 20))
        for round_ in range(rounds):
            log(f"round {round_ + 1} of {rounds}")
            for scenario in scenarios(ids, ""):
                pair = (("fast", fast), ("fallback", stock))
                for label, driver in pair if round_ % 2 == 0 else pair[::-1]:  # each goes first in turn
                    request = scenarios(ids, f"{label}-{round_}")[scenario]
                    times.setdefault(scenario, {}).setdefault(label, []).append(
                        await measure(driver, request, 0, requests))
        return report(times, requests, rounds)
    finally:
        for app in apps:
            await app.state.gateway.stop()
        await drop_database(name)


def report(times: dict[str, dict[str, list[float]]], requests: int, rounds: int) -> str:
    lines = [f"Fast path vs Strawberry's own view (BOOKING_FAST_PATH), in process, {requests} requests "
             f"x {rounds} rounds, median per request:", "",
             f"{'scenario':<38} {'fast ms':>9} {'fallback ms':>12} {'fallback / fast':>16}"]
    for scenario, by in times.items():
        fast, stock = median(by["fast"]), median(by["fallback"])
        each = ", ".join(f"{s / f:.2f}" for f, s in zip(by["fast"], by["fallback"], strict=True))
        lines.append(f"{scenario:<38} {fast * 1000:>9.3f} {stock * 1000:>12.3f} {stock / fast:>15.2f}x"
                     f"   (rounds: {each})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario, app and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a few requests: proves the harness works")
    args = parser.parse_args(argv)
    if args.smoke:
        args.requests, args.rounds = 20, 1
    print(asyncio.run(run(args.requests, args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
