"""Why a hot-resource decision costs what it does: bookings, the hot resource, rejections alone.

    .venv/bin/python -m benchmarks.hot_breakdown [--rounds 2] [--seconds 8]

One gateway (2 workers) on a scratch database, wrk at 32 connections, and per round three
runs: uncontended bookings, the hot resource of ``benchmarks.run``, and rejections alone (the
hot workload kept on one day, full after its first few dozen requests). For each it prints the
rate, CPU per request by process, and Redis script calls (EVALSHA) and PostgreSQL
transactions per request, read from Redis' command statistics and ``pg_stat_database``
before and after (the latter is flushed by PostgreSQL about every 0.5 s, hence approximate).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from contextlib import ExitStack

import asyncpg
import redis

from benchmarks.run import (
    REDIS_URL,
    Load,
    cli,
    create_database,
    drop_database,
    free_port,
    gateway,
    processes,
    seed,
    server,
)

RUNS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("uncontended bookings", "book_uncontended", {}),
    ("hot resource", "book_hot", {}),
    ("rejections alone", "book_hot", {"DAY_EVERY": "1000000000"}),
)


async def _transactions(db_url: str) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        return int(await conn.fetchval("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                       "WHERE datname = current_database()"))
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    name, db_url = asyncio.run(create_database())
    stats = redis.Redis.from_url(REDIS_URL)

    def counters() -> tuple[int, int]:
        calls = stats.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
        return int(calls), asyncio.run(_transactions(db_url))

    try:
        env = {"BOOKING_DATABASE_URL": db_url, "BOOKING_REDIS_URL": REDIS_URL, "BOOKING_LOG_LEVEL": "WARNING",
               "BOOKING_REDIS_PREFIX": f"bench-{secrets.token_hex(3)}", "BOOKING_ENV": "production",
               "BOOKING_RATE_LIMIT_PER_S": "0"}
        cli("migrate", env=env)
        key = cli("tenant", "create", "bench", env=env).strip().splitlines()[-1].split()[-1]
        base = int(time.time()) // 86400 * 86400 + 30 * 86400
        load = Load(args.seconds, 32)
        with ExitStack() as servers:
            port = free_port()
            gw = servers.enter_context(server(gateway(port), env, port, "/healthz"))
            data = seed(f"http://127.0.0.1:{port}", key, base, 100)
            url = f"http://127.0.0.1:{port}/graphql"
            warm_up = Load(1.0, 32)
            for i, (label, scenario, extra) in enumerate(RUNS):  # warm up, so the measured runs can skip it
                warm_epoch = base + i * 365 * 86400  # windows (and clientMutationIds) of its own
                warm_up.run(f"{label} (warm-up)", url, scenario, {"API_KEY": key, **data,
                                                                  "BASE_EPOCH": str(warm_epoch), **extra}, warmup=0)
            for n in range(args.rounds):
                for i, (label, scenario, extra) in enumerate(RUNS):
                    epoch = base + (n * len(RUNS) + i + 1) * 3650 * 86400  # windows of its own
                    before = counters()
                    result = load.run(label, url, scenario, {"API_KEY": key, **data, "BASE_EPOCH": str(epoch),
                                                             **extra}, warmup=0, procs=lambda: processes(gw))
                    time.sleep(0.6)  # pg_stat_database catches up
                    after = counters()
                    per = max(1, result.requests)
                    cpu = ", ".join(f"{k} {v / per * 1000:.0f} µs" for k, v in result.cpu_ms.items())
                    print(f"{label:22s} {result.rate:7,.0f}/s  CPU per request: {cpu}; per request: "
                          f"{(after[0] - before[0]) / per:.2f} EVALSHA, {(after[1] - before[1]) / per:.2f} "
                          f"PostgreSQL transactions; bookings {result.counts.get('ok', 0)}", flush=True)
    finally:
        asyncio.run(drop_database(name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
