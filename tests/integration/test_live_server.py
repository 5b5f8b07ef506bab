"""The gateway app served in this process by uvicorn, with real WebSocket clients.

In-process so that the test can look inside the hub (listeners, channels, tasks) after the
clients are gone; the wire is the real one.
"""

from __future__ import annotations

import asyncio
import gc
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin, Subprotocol

from booking_gateway.app import YOUNG_GC_THRESHOLD, Gateway, create_app
from booking_gateway.infra.redis.keys import channel_for
from booking_gateway.infra.settings import Settings
from booking_gateway.live.wsclient import TRANSPORT_WS, GraphQLWebSocket
from booking_gateway.schema.ids import parse_global_id
from tests.integration.graphql_client import CREATE_RESOURCE
from tests.integration.redis_fixtures import redis_client
from tests.integration.uvicorn_serving import serving

ALLOWED = "https://app.example.com"
DAY = {"start": "2029-02-01T00:00:00Z", "end": "2029-02-02T00:00:00Z"}


@dataclass
class Served:
    url: str
    app: Starlette
    key: str
    tenant_id: UUID

    @property
    def gateway(self) -> Gateway:
        gateway: Gateway = self.app.state.gateway
        return gateway


@pytest.fixture
async def served(settings: Settings, tenant_key: tuple[UUID, str]) -> AsyncIterator[Served]:
    # no rate limit: a thousand subscriptions in a few seconds would spend any tenant's budget
    app = create_app(settings.model_copy(update={
        "allowed_origins": ALLOWED, "ws_keepalive_ms": 300, "ws_max_subscriptions": 3, "rate_limit_per_s": 0}))
    async with serving(app) as url:
        yield Served(url, app, tenant_key[1], tenant_key[0])


async def eventually(check: Callable[[], bool], wait_s: float = 10.0) -> None:
    for _ in range(int(wait_s / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    assert check()


async def post(served: Served, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{served.url}/graphql", json={"query": query, "variables": variables},
                                   headers={"Authorization": f"Bearer {served.key}"})
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


async def a_room(served: Served) -> str:
    data = await post(served, CREATE_RESOURCE, input={"clientMutationId": secrets.token_hex(6), "name": "Room"})
    return str(data["createResource"]["resource"]["id"])


async def cycle(served: Served, room: str, index: int) -> None:
    """Connect, subscribe, and leave in one of three ways."""
    async with GraphQLWebSocket.connect(served.url, served.key) as ws:
        op = await ws.subscribe(ids=[room], window=DAY)
        if index % 3 == 2:
            return  # gone before the SNAPSHOT was even sent
        first = await ws.receive()
        assert first.payload["data"]["availabilityChanged"]["reason"] == "SNAPSHOT"
        if index % 3 == 0:
            await ws.complete(op)  # then close


async def numsub(redis: Redis, channel: str) -> int:
    return int((await redis.pubsub_numsub(channel))[0][1])


@pytest.mark.slow
async def test_a_thousand_connect_disconnect_cycles_leave_no_listener_task_quota_or_redis_subscription(
        served: Served) -> None:
    room = await a_room(served)
    channel = channel_for(served.gateway.settings.redis_prefix, served.tenant_id, parse_global_id(room, "id")[1])
    hub = served.gateway.live
    async with GraphQLWebSocket.connect(served.url, served.key):
        pass  # the server's first connection warms up what it keeps for good (pools, loaders)
    await asyncio.sleep(0.2)
    tasks_before = len(asyncio.all_tasks())

    for start in range(0, 1000, 10):  # 10 at a time: each SNAPSHOT holds a database connection
        await asyncio.gather(*(cycle(served, room, i) for i in range(start, start + 10)))

    async with redis_client() as redis:
        await eventually(lambda: hub.stats().listeners == 0)
        for _ in range(100):
            if await numsub(redis, channel) == 0:
                break
            await asyncio.sleep(0.05)
        assert await numsub(redis, channel) == 0
    stats = hub.stats()
    assert (stats.listeners, stats.channels, stats.redis_channels) == (0, 0, 0)
    assert stats.tasks == 3, "only the subscriber's session, reader and writer remain"
    assert stats.redis_connected
    assert hub.quotas.tenants() == 0, "every socket's seat and subscription's share was given back"
    await eventually(lambda: len(asyncio.all_tasks()) <= tasks_before)
    assert len(asyncio.all_tasks()) == tasks_before


async def test_cors_and_websocket_origins_follow_the_allowed_origins_setting(served: Served) -> None:
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    async with httpx.AsyncClient() as http:
        allowed = await http.options(f"{served.url}/graphql", headers={"Origin": ALLOWED, **preflight})
        refused = await http.options(f"{served.url}/graphql",
                                     headers={"Origin": "https://evil.example", **preflight})
        simple = await http.post(f"{served.url}/graphql", json={"query": "{ __typename }"},
                                 headers={"Origin": ALLOWED, "Authorization": f"Bearer {served.key}"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert simple.headers["access-control-allow-origin"] == ALLOWED

    ws_url = served.url.replace("http", "ws") + "/graphql"
    with pytest.raises(InvalidStatus) as refusal:
        async with connect(ws_url, subprotocols=[Subprotocol(TRANSPORT_WS)],
                           origin=Origin("https://evil.example")):
            pass
    assert refusal.value.response.status_code == 403
    for origin in (ALLOWED, None):  # an allowed page; a non-browser client (no Origin)
        async with GraphQLWebSocket.connect(served.url, served.key, origin=origin) as ws:
            await ws.subscribe(ids=[await a_room(served)], window=DAY)
            assert (await ws.receive()).type == "next"


async def test_the_server_pings_and_limits_subscriptions_per_connection(served: Served) -> None:
    room = await a_room(served)
    async with GraphQLWebSocket.connect(served.url, served.key) as ws:
        async with asyncio.timeout(3):
            assert orjson.loads(await ws.ws.recv()) == {"type": "ping"}
        for _ in range(3):
            await ws.subscribe(ids=[room], window=DAY)
            assert (await ws.receive()).type == "next"
        over = await ws.subscribe(ids=[room], window=DAY)
        refused = await ws.receive()
    assert (refused.id, refused.type) == (over, "error")
    assert refused.payload[0]["message"] == "Subscription limit reached"


async def test_a_subscription_over_http_is_refused(served: Served) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{served.url}/graphql", headers={"Authorization": f"Bearer {served.key}"},
                                   json={"query": "subscription { availabilityChanged(resourceIds: [], window: "
                                                  '{start: "2029-02-01T00:00:00Z", end: "2029-02-02T00:00:00Z"}) '
                                                  "{ reason } }"})
    body = response.json()
    assert body.get("data") is None
    assert body["errors"]


async def test_the_startup_heap_is_frozen_out_of_the_collectors_sight(served: Served) -> None:
    # without it a full collection walked the whole schema: 60-78 ms pauses, measured in-process
    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD  # young collections every 10,000 allocations


async def test_a_subscription_window_outside_the_instant_range_is_refused_naming_the_field(
        served: Served) -> None:
    room = await a_room(served)
    async with GraphQLWebSocket.connect(served.url, served.key) as ws:
        for window, field in [({"start": "9999-12-31T00:00:00Z", "end": "9999-12-31T23:59:59.999999Z"},
                               "window.start"),
                              ({"start": "8999-12-31T00:00:00Z", "end": "9000-01-01T00:00:00Z"}, "window.end"),
                              ({"start": "0001-01-01T00:00:00+01:00", "end": "0001-01-02T00:00:00Z"},
                               "window.start")]:
            op = await ws.subscribe(ids=[room], window=window)
            refused = await ws.receive()
            assert (refused.id, refused.type) == (op, "next"), refused
            [error] = refused.payload["errors"]
            assert error["extensions"] == {"code": "VALIDATION_FAILED", "field": field}, error
            done = await ws.receive()
            assert (done.id, done.type) == (op, "complete")
        # the connection still serves a valid window
        await ws.subscribe(ids=[room], window=DAY)
        assert (await ws.receive()).payload["data"]["availabilityChanged"]["reason"] == "SNAPSHOT"
