"""Client CPU per Redis script call with redis-py's pure-Python reply parser and with hiredis.

    .venv/bin/python -m benchmarks.redis_parser

Why ``redis[hiredis]`` is a dependency: every booking makes two script calls (lock and
release) and the live hub parses every event. Both parsers run in this one process,
alternating, best of three rounds each, against BOOKING_BENCH_REDIS_URL (default the test
Redis; it only loads a one-line script).
"""

from __future__ import annotations

import asyncio
import os
import time

import redis.asyncio as aioredis
from redis._parsers import _AsyncHiredisParser, _AsyncRESP2Parser

URL = os.environ.get("BOOKING_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CALLS, TASKS = 2000, 8


async def cpu_per_call(parser: type) -> float:
    client = aioredis.Redis.from_url(URL, parser_class=parser)
    try:
        sha = await client.script_load("return {1, 12345}")

        async def calls() -> None:
            for _ in range(CALLS):
                await client.evalsha(sha, 1, "bench:parser", 1, 2, 3)

        await calls()  # warm up: connections, script cache
        started = time.process_time()
        await asyncio.gather(*(calls() for _ in range(TASKS)))
        return (time.process_time() - started) / (CALLS * TASKS) * 1e6
    finally:
        await client.aclose()


async def main() -> None:
    best = {"python": float("inf"), "hiredis": float("inf")}
    for _ in range(3):
        for name, parser in (("python", _AsyncRESP2Parser), ("hiredis", _AsyncHiredisParser)):
            best[name] = min(best[name], await cpu_per_call(parser))
    print(f"EVALSHA, {TASKS} concurrent tasks, client CPU per call (best of 3): "
          f"python parser {best['python']:.1f} us, hiredis {best['hiredis']:.1f} us "
          f"({best['hiredis'] / best['python']:.2f}x)")


if __name__ == "__main__":
    asyncio.run(main())
