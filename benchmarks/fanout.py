"""Fan-out benchmark of live availability: bookings through one gateway, subscribers on two.

    .venv/bin/python benchmarks/fanout.py            # 200 subscribers, 100 + 5x20 bookings

Starts two gateway processes (``python -m booking_gateway serve``) on the configured PostgreSQL
(a database of its own, dropped afterwards) and Redis (a key prefix of its own; nothing is
flushed), opens the subscribers split evenly over both processes, each on one of a few
windows that all cover the booked day, then books one slot at a time through process A and
then in concurrent bursts. For every booking and subscriber it measures the time from the
mutation's HTTP response to the receipt of the BOOKED event carrying that slot (an event can
arrive before the response does: the gateway publishes right after the commit; those count
as 0 ms), counts the events that never arrive, and reports each process's RSS before and
after its subscribers connected.

Environment: ``BOOKING_BENCH_ADMIN_URL`` (a PostgreSQL connection allowed to CREATE DATABASE,
default ``postgresql://postgres@127.0.0.1:5432/postgres``), ``BOOKING_BENCH_REDIS_URL``
(default ``redis://127.0.0.1:6379/0``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from booking_gateway.infra.postgres import scratch  # noqa: E402
from booking_gateway.live.wsclient import GraphQLWebSocket  # noqa: E402

ADMIN_URL = os.environ.get("BOOKING_BENCH_ADMIN_URL", os.environ.get(
    "BOOKING_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
REDIS_URL = os.environ.get("BOOKING_BENCH_REDIS_URL", os.environ.get("BOOKING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
DAY = datetime(2031, 3, 3, tzinfo=UTC)
SLOT = timedelta(minutes=5)
TARGET_P99_MS = 100.0

BOOK = """mutation($input: BookSlotInput!) {
  bookSlot(input: $input) { booking { id start end } error { code message } } }"""
CREATE_RESOURCE = """mutation($input: CreateResourceInput!) {
  createResource(input: $input) { resource { id } error { code message } } }"""


@dataclass
class Gateway:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    rss_before: int = 0
    rss_after: int = 0
    subscribers: int = 0

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)


@dataclass
class Subscriber:
    gateway: str
    ws: GraphQLWebSocket
    #: Start of the changed slot -> perf_counter() at receipt of its BOOKED event.
    received: dict[str, float] = field(default_factory=dict)
    versions: list[int] = field(default_factory=list)
    #: Events that stood for several bookings because this subscriber was behind.
    folded: int = 0


@dataclass
class Phase:
    name: str
    #: Slot start -> perf_counter() when the mutation's response was read.
    responded: dict[str, float] = field(default_factory=dict)
    requested: dict[str, float] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "booking_gateway", *args], env={**os.environ, **env},
                          cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    return done.stdout


def start_gateway(env: dict[str, str], name: str, log_dir: Path) -> Gateway:
    port = free_port()
    with (log_dir / f"{name}.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "booking_gateway", "serve", "--port", str(port)],
                                   env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    gateway = Gateway(name, f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gateway {name} exited: {(log_dir / f'{name}.log').read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{gateway.url}/healthz", timeout=1).status_code == 200:
                return gateway
        time.sleep(0.1)
    raise RuntimeError(f"gateway {name} did not start")


@contextlib.contextmanager
def gateways(env: dict[str, str], log_dir: Path) -> Iterator[list[Gateway]]:
    started: list[Gateway] = []
    try:
        started = [start_gateway(env, "A", log_dir), start_gateway(env, "B", log_dir)]
        yield started
    finally:
        for g in started:
            g.process.terminate()
        for g in started:
            try:
                g.process.wait(20)
            except subprocess.TimeoutExpired:
                g.process.kill()


async def graphql(http: httpx.AsyncClient, url: str, key: str, query: str, **variables: Any) -> Any:
    response = await http.post(f"{url}/graphql", json={"query": query, "variables": variables},
                               headers={"Authorization": f"Bearer {key}"})
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"GraphQL request failed: {response.status_code} {body}")
    return body["data"]


async def receive(sub: Subscriber) -> None:
    while True:
        message = await sub.ws.receive(wait_s=3600)
        if message.type != "next" or not message.payload.get("data"):
            raise RuntimeError(f"unexpected message on {sub.gateway}: {message}")
        change = message.payload["data"]["availabilityChanged"]
        sub.versions.append(change["availability"]["version"])
        if change["reason"] != "BOOKED":
            continue
        # a subscriber that fell behind gets one event standing for several (latest state wins):
        # its `changed` covers every slot it stands for
        start = datetime.fromisoformat(change["changed"]["start"])
        end = datetime.fromisoformat(change["changed"]["end"])
        sub.folded += end - start > SLOT
        while start < end:
            sub.received.setdefault(iso(start), message.at)
            start += SLOT


def slot_start(index: int) -> datetime:
    return DAY + timedelta(hours=1) + index * SLOT


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


async def book(http: httpx.AsyncClient, gateway: Gateway, key: str, room: str, index: int,
               phase: Phase) -> None:
    start = slot_start(index)
    phase.requested[iso(start)] = time.perf_counter()
    data = await graphql(http, gateway.url, key, BOOK, input={
        "clientMutationId": f"bench-{index}", "resourceId": room, "start": iso(start), "end": iso(start + SLOT)})
    phase.responded[iso(start)] = time.perf_counter()
    if data["bookSlot"]["error"] is not None:
        raise RuntimeError(f"booking {index} refused: {data['bookSlot']['error']}")


async def settle(subscribers: list[Subscriber], phase: Phase, wait_s: float = 5.0) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if all(slot in s.received for s in subscribers for slot in phase.responded):
            return
        await asyncio.sleep(0.05)


def report(phase: Phase, subscribers: list[Subscriber]) -> tuple[float, int]:
    latencies, early, lost = [], 0, 0
    end_to_end = []
    for slot, responded in phase.responded.items():
        for sub in subscribers:
            at = sub.received.get(slot)
            if at is None:
                lost += 1
                continue
            early += at < responded
            latencies.append(max(0.0, at - responded) * 1000)
            end_to_end.append((at - phase.requested[slot]) * 1000)
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
    e = statistics.quantiles(end_to_end, n=100, method="inclusive") if len(end_to_end) > 1 else [0.0] * 99
    print(f"  {phase.name}: {len(phase.responded)} bookings x {len(subscribers)} subscribers = "
          f"{len(phase.responded) * len(subscribers)} expected events, {lost} lost")
    print(f"    response -> receipt: p50 {q[49]:.1f} ms  p90 {q[89]:.1f} ms  p99 {q[98]:.1f} ms  "
          f"max {max(latencies, default=0):.1f} ms  ({early} events arrived before the HTTP response)")
    print(f"    request  -> receipt: p50 {e[49]:.1f} ms  p99 {e[98]:.1f} ms")
    return q[98], lost


async def run(args: argparse.Namespace, env: dict[str, str], key: str, log_dir: Path) -> bool:
    load_before = os.getloadavg()[0]
    with gateways(env, log_dir) as (a, b):
        limits = httpx.Limits(max_connections=args.burst + 5)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            data = await graphql(http, a.url, key, CREATE_RESOURCE,
                                 input={"clientMutationId": "bench-room", "name": "Benchmark room"})
            room = data["createResource"]["resource"]["id"]
            total = args.bookings + args.bursts * args.burst  # every slot inside every window
            await asyncio.sleep(0.5)
            for g in (a, b):
                g.rss_before = g.rss()
            async with contextlib.AsyncExitStack() as stack:
                subscribers = []
                for i in range(args.subscribers):
                    g = (a, b)[i % 2]
                    ws = await stack.enter_async_context(
                        GraphQLWebSocket.connect(g.url, key, compression=not args.no_compression))
                    shift = timedelta(hours=i % args.windows)
                    await ws.subscribe(ids=[room], window={"start": iso(DAY - shift),
                                                           "end": iso(slot_start(total) + shift)})
                    snapshot = await ws.receive()
                    assert snapshot.payload["data"]["availabilityChanged"]["reason"] == "SNAPSHOT", snapshot
                    subscribers.append(Subscriber(g.name, ws))
                    g.subscribers += 1
                receivers = [asyncio.create_task(receive(s)) for s in subscribers]
                await asyncio.sleep(1.0)
                for g in (a, b):
                    g.rss_after = g.rss()

                sequential = Phase("one booking at a time")
                for index in range(args.bookings):
                    await book(http, a, key, room, index, sequential)
                    await asyncio.sleep(args.pause_ms / 1000)
                await settle(subscribers, sequential)

                bursts = Phase(f"bursts of {args.burst} concurrent bookings")
                base = args.bookings
                for burst in range(args.bursts):
                    first = base + burst * args.burst
                    await asyncio.gather(*(book(http, a, key, room, first + i, bursts)
                                           for i in range(args.burst)))
                    await asyncio.sleep(0.2)
                await settle(subscribers, bursts)
                for task in receivers:
                    task.cancel()
                await asyncio.gather(*receivers, return_exceptions=True)

    print(f"fan-out: {args.subscribers} subscribers ({a.subscribers} on A, {b.subscribers} on B), "
          f"{args.windows} distinct windows per process, bookings through A, permessage-deflate "
          f"{'off' if args.no_compression else 'on'}; load average before the run {load_before:.1f} "
          f"on {os.cpu_count()} cores")
    p99, lost = report(sequential, subscribers)
    _, burst_lost = report(bursts, subscribers) if bursts.responded else (0.0, 0)
    ordered = all(s.versions == sorted(s.versions) for s in subscribers)
    print(f"  versions in order at every subscriber: {ordered}; events standing for several bookings "
          f"(subscriber behind, latest state wins): {sum(s.folded for s in subscribers)}")
    for g in (a, b):
        per = (g.rss_after - g.rss_before) / max(g.subscribers, 1) / 1024
        print(f"  process {g.name}: {g.subscribers} subscribers at RSS {g.rss_after / 2**20:.1f} MiB "
              f"({g.rss_before / 2**20:.1f} MiB before they connected; ~{per:.0f} KiB per subscriber)")
    ok = p99 < TARGET_P99_MS and lost == 0 and burst_lost == 0 and ordered
    print(f"  target p99 < {TARGET_P99_MS:.0f} ms with nothing lost: {'met' if ok else 'NOT met'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--windows", type=int, default=4, help="distinct subscribed windows")
    parser.add_argument("--bookings", type=int, default=100, help="bookings made one at a time")
    parser.add_argument("--pause-ms", type=float, default=20, help="pause between sequential bookings")
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--burst", type=int, default=20, help="concurrent bookings per burst")
    parser.add_argument("--no-compression", action="store_true",
                        help="do not offer permessage-deflate (browsers do offer it)")
    args = parser.parse_args()

    name = asyncio.run(scratch.create_database(ADMIN_URL, "bg_bench"))
    database_url = scratch.database_url(ADMIN_URL, name)
    env = {"BOOKING_DATABASE_URL": database_url, "BOOKING_REDIS_URL": REDIS_URL,
           "BOOKING_REDIS_PREFIX": f"bench-{secrets.token_hex(4)}", "BOOKING_LOG_LEVEL": "WARNING"}
    log_dir = Path(os.environ.get("TMPDIR", "/tmp")) / name
    log_dir.mkdir(parents=True)
    try:
        cli(env, "migrate")
        key = cli(env, "tenant", "create", "benchmark").strip().splitlines()[-1].split()[-1]
        ok = asyncio.run(run(args, env, key, log_dir))
    finally:
        asyncio.run(scratch.drop_database(ADMIN_URL, name))
    print(f"  gateway logs: {log_dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
