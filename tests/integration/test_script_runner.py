"""The lean script runner: same answers as redis-py's scripts, loads a script Redis does not
know (after a restart), and never reuses a connection whose call was cancelled."""

from __future__ import annotations

import asyncio
import uuid

from booking_gateway.infra.redis.scripts import ScriptRunner
from tests.integration.redis_fixtures import REDIS_URL, redis_client


async def test_runs_scripts_and_loads_an_unknown_one() -> None:
    key = f"bgtest-runner-{uuid.uuid4().hex}"
    # a script text of its own: Redis has never seen it, so the first EVALSHA answers NOSCRIPT
    source = f"-- {uuid.uuid4().hex}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])"
    runner = ScriptRunner(REDIS_URL, max_connections=2)
    async with redis_client() as client:
        script = client.register_script(source)
        try:
            assert await runner.run(script, [key], [2]) == 2
            assert await script(keys=[key], args=[3], client=client) == 5
            results = await asyncio.gather(*(runner.run(script, [key], [1]) for _ in range(20)))
            assert sorted(results) == list(range(6, 26)), "20 calls over 2 connections, none lost"
        finally:
            await client.delete(key)
            await runner.aclose()


async def test_a_cancelled_call_does_not_leave_its_connection_in_the_pool() -> None:
    closed = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers; returns when the client hangs up
        closed.set()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    runner = ScriptRunner(f"redis://127.0.0.1:{port}/0", max_connections=1)
    async with redis_client() as client:
        script = client.register_script("return 1")
    try:
        task = asyncio.create_task(runner.run(script, ["k"], []))
        await asyncio.sleep(0.2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert runner._idle == []
        await asyncio.wait_for(closed.wait(), 2)
    finally:
        await runner.aclose()
        server.close()
        await server.wait_closed()
