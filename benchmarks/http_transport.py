"""What the transport's choices cost: GET vs POST, graphql-response+json vs application/json.

    .venv/bin/python -m benchmarks.http_transport [--seconds 3] [--rounds 3]

The same authenticated query is sent four ways over keep-alive connections to one gateway
process; each variant's gateway CPU per request and request rate are measured, interleaved
round by round, and reported as ratios against POST with ``Accept: application/json`` (the path
every client used before GET existed), taken within each round. ``benchmarks.run`` runs it too,
against the gateway it has started. Standalone, it creates a database of its own (the test
suite's PostgreSQL and Redis, as ``benchmarks.run``) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median
from urllib.parse import urlencode, urlsplit

import orjson
import psutil

QUERY = "query Q { __typename }"
GQL = "application/graphql-response+json"
#: (label, method, Accept)
VARIANTS = (("POST, application/json", "POST", "application/json"),
            ("POST, graphql-response+json", "POST", GQL),
            ("GET, application/json", "GET", "application/json"),
            ("GET, graphql-response+json", "GET", GQL))
BASELINE = VARIANTS[0][0]


@dataclass
class Measured:
    requests: int
    seconds: float
    cpu_s: float
    failures: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request_ms(self) -> float:
        return self.cpu_s * 1000 / max(1, self.requests)


def raw_request(url: str, key: str, method: str, accept: str) -> bytes:
    parts = urlsplit(url)
    head = f"Host: {parts.hostname}\r\nAuthorization: Bearer {key}\r\nAccept: {accept}\r\n"
    if method == "GET":
        return f"GET {parts.path}?{urlencode({'query': QUERY})} HTTP/1.1\r\n{head}\r\n".encode()
    body = orjson.dumps({"query": QUERY})
    return (f"POST {parts.path} HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _load(url: str, request: bytes, connections: int, seconds: float) -> tuple[int, int, float]:
    parts = urlsplit(url)
    done = failures = 0
    deadline = time.monotonic() + seconds

    async def connection() -> None:
        nonlocal done, failures
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while time.monotonic() < deadline:
                writer.write(request)
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                done += 1
                failures += status != 200
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(connection() for _ in range(connections)))
    return done, failures, time.monotonic() - started


def measure(url: str, key: str, gateway_pid: int, *, seconds: float = 3.0, rounds: int = 3,
            connections: int = 16, log: Callable[[str], None] = print) -> str:
    """Run every variant ``rounds`` times, interleaved; the report (a table and the ratios)."""
    parent = psutil.Process(gateway_pid)
    processes = [parent, *parent.children(recursive=True)]

    def cpu() -> float:
        return sum(t.user + t.system for t in (p.cpu_times() for p in processes))

    results: list[dict[str, Measured]] = []
    for n in range(rounds):
        this_round: dict[str, Measured] = {}
        for label, method, accept in VARIANTS:
            request = raw_request(url, key, method, accept)
            asyncio.run(_load(url, request, connections, min(1.0, seconds / 3)))  # warm up
            before = cpu()
            done, failures, took = asyncio.run(_load(url, request, connections, seconds))
            this_round[label] = Measured(done, took, cpu() - before, failures)
            log(f"round {n + 1}, {label}: {this_round[label].rate:,.0f}/s, "
                f"{this_round[label].cpu_per_request_ms:.3f} ms gateway CPU per request")
        results.append(this_round)
    return report(results)


def report(results: list[dict[str, Measured]]) -> str:
    lines = [f"HTTP transport ({len(results)} round(s); ratios vs {BASELINE}, the median of each round's ratio):",
             f"  {'variant':30} {'req/s':>9} {'CPU/req ms':>11} {'rate ratio':>11} {'CPU ratio':>10} {'non-200':>8}"]
    for label, _, _ in VARIANTS:
        rate = median(r[label].rate for r in results)
        cpu = median(r[label].cpu_per_request_ms for r in results)
        rate_ratio = median(r[label].rate / r[BASELINE].rate for r in results)
        cpu_ratio = median(r[label].cpu_per_request_ms / r[BASELINE].cpu_per_request_ms for r in results)
        failures = sum(r[label].failures for r in results)
        lines.append(f"  {label:30} {rate:>9,.0f} {cpu:>11.3f} {rate_ratio:>10.2f}x {cpu_ratio:>9.2f}x {failures:>8}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from benchmarks import run  # the harness's set-up: a scratch database, a gateway process

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    name, db_url = asyncio.run(run.create_database())
    try:
        env = {"BOOKING_DATABASE_URL": db_url, "BOOKING_REDIS_URL": run.REDIS_URL, "BOOKING_LOG_LEVEL": "WARNING",
               "BOOKING_REDIS_PREFIX": f"bench-{secrets.token_hex(3)}", "BOOKING_ENV": "production",
               "BOOKING_RATE_LIMIT_PER_S": "0"}
        run.cli("migrate", env=env)
        key = run.cli("tenant", "create", "bench", env=env).strip().splitlines()[-1].split()[-1]
        port = run.free_port()
        with run.server(run.gateway(port, workers=1), env, port, "/healthz") as process:
            print(measure(f"http://127.0.0.1:{port}/graphql", key, process.pid, seconds=args.seconds,
                          rounds=args.rounds, connections=args.connections, log=run.log))
    finally:
        asyncio.run(run.drop_database(name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
