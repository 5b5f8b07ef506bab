"""SIGTERM drains: WebSocket clients get a proper close (1012), in-flight mutations finish.

uvicorn closes every WebSocket with 1012 ("service restart": reconnect, possibly elsewhere)
as soon as it is told to stop, lets in-flight HTTP requests complete, and only then runs the
app's lifespan shutdown (the hub, the pools).
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import asyncpg
import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from booking_gateway.live.wsclient import GraphQLWebSocket
from booking_gateway.schema.ids import parse_global_id
from tests.e2e.servers import create_tenant, start_gateway
from tests.e2e.test_subscriptions import at, next_change, span
from tests.e2e.test_two_gateways import book, make_room
from tests.invariants import Window


async def test_sigterm_closes_websockets_with_1012_and_lets_inflight_mutations_finish(
        gateway_env: dict[str, str], logs_dir: Path, database_url: str) -> None:
    env = {**gateway_env, "BOOKING_LOG_LEVEL": "INFO"}
    key = create_tenant("live-drain", env)
    gateway = start_gateway(env, logs_dir, name="drain")
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            room = await make_room(http, gateway, key, "Room at shutdown")
            async with GraphQLWebSocket.connect(gateway.url, key) as ws:
                await ws.subscribe(ids=[room], window=span(0, 24))
                assert (await next_change(ws))["reason"] == "SNAPSHOT"

                blocker = await asyncpg.connect(database_url)
                try:
                    # hold the resource's row: the booking's commit (which bumps its version) waits
                    transaction = blocker.transaction()
                    await transaction.start()
                    await blocker.execute("SELECT 1 FROM resources WHERE id = $1 FOR UPDATE",
                                          parse_global_id(room, "id")[1])
                    inflight = asyncio.ensure_future(book(http, gateway, key, room, Window(at(9), at(10)), "drain"))
                    await waiting_for_a_lock(blocker)
                    gateway.process.send_signal(signal.SIGTERM)
                    with pytest.raises(ConnectionClosed) as closed:
                        async with asyncio.timeout(5):
                            await ws.ws.recv()
                    assert closed.value.rcvd is not None
                    assert closed.value.rcvd.code == 1012
                    assert not inflight.done(), "the mutation is still waiting for its commit"
                finally:
                    await transaction.rollback()
                    await blocker.close()
                answer = await inflight
        assert answer["error"] is None
        assert answer["booking"]["start"] == span(9, 10)["start"]  # type: ignore[index]
        # uvicorn re-raises the SIGTERM once it has shut down cleanly
        assert gateway.process.wait(15) in (0, 128 + signal.SIGTERM, -signal.SIGTERM)
    finally:
        gateway.stop()
    log = gateway.log()
    assert "Application shutdown complete" in log
    assert "Traceback" not in log


async def waiting_for_a_lock(conn: asyncpg.Connection) -> None:
    for _ in range(200):
        if await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND datname = current_database()"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the booking never reached its commit")
