"""Per-tenant live quotas through a real gateway process: sockets, subscriptions, resource-days.

The gateway runs with small caps (2 sockets, 3 subscriptions, 40 resource-days per tenant);
every test uses tenants of its own, so the counts it sees are its own.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
import websockets

from booking_gateway.live.wsclient import LEGACY_WS, TRANSPORT_WS, ConnectionRefused, GraphQLWebSocket, Received
from tests.e2e.servers import GatewayProcess, create_tenant, start_gateway
from tests.e2e.test_two_gateways import make_room

START = datetime(2030, 1, 1, tzinfo=UTC)
#: Release happens when the server has seen the close or the completion: a client that is
#: quicker than that may have to try again. A wide margin; it takes milliseconds.
RELEASE_WAIT_S = 10.0


@pytest.fixture(scope="module")
def quota_gateway(gateway_env: dict[str, str], logs_dir: Path) -> Iterator[GatewayProcess]:
    gateway = start_gateway({**gateway_env, "BOOKING_WS_MAX_CONNECTIONS_PER_TENANT": "2",
                             "BOOKING_WS_MAX_SUBSCRIPTIONS_PER_TENANT": "3",
                             "BOOKING_LIVE_MAX_RESOURCE_DAYS_PER_TENANT": "40"}, logs_dir, name="quota")
    try:
        yield gateway
    finally:
        gateway.stop()


def tenant(gateway_env: dict[str, str]) -> str:
    return create_tenant(f"quota-{secrets.token_hex(4)}", gateway_env)


def days(n: int) -> dict[str, str]:
    return {"start": START.isoformat(), "end": (START + timedelta(days=n)).isoformat()}


async def rooms(gateway: GatewayProcess, key: str, count: int = 1) -> list[str]:
    async with httpx.AsyncClient(timeout=30) as http:
        return [await make_room(http, gateway, key, f"room-{secrets.token_hex(3)}") for _ in range(count)]


async def first_answer(ws: GraphQLWebSocket, ids: list[str], window: dict[str, str]) -> Received:
    await ws.subscribe(ids=ids, window=window)
    return await ws.receive()


def is_snapshot(message: Received) -> bool:
    return (message.type == "next" and not message.payload.get("errors")
            and message.payload["data"]["availabilityChanged"]["reason"] == "SNAPSHOT")


def limit_error(message: Received) -> dict[str, object]:
    """The refusal of a subscription over a quota: a GraphQL error, coded and naming the setting."""
    assert message.type == "next", message
    assert message.payload["data"] is None
    [error] = message.payload["errors"]
    assert error["extensions"]["code"] == "SUBSCRIPTION_LIMIT", error
    return dict(error)


async def subscribed_eventually(ws: GraphQLWebSocket, ids: list[str], window: dict[str, str]) -> None:
    """Subscribe until accepted: the share given back elsewhere may take the server a moment."""
    async with asyncio.timeout(RELEASE_WAIT_S):
        while True:
            answer = await first_answer(ws, ids, window)
            if is_snapshot(answer):
                return
            limit_error(answer)
            assert (await ws.receive()).type == "complete"
            await asyncio.sleep(0.05)


@asynccontextmanager
async def connected_eventually(url: str, key: str, protocol: str = TRANSPORT_WS) -> AsyncIterator[GraphQLWebSocket]:
    """Connect until accepted: a seat given back by a socket just closed may take the server a moment."""
    async with AsyncExitStack() as stack:
        async with asyncio.timeout(RELEASE_WAIT_S):
            while True:
                try:
                    ws = await stack.enter_async_context(GraphQLWebSocket.connect(url, key, protocol=protocol))
                    break
                except ConnectionRefused as refused:
                    if refused.code != 4429:
                        raise
                await asyncio.sleep(0.05)
        yield ws


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_socket_over_the_tenants_cap_is_closed_with_4429_naming_the_setting(
        quota_gateway: GatewayProcess, gateway_env: dict[str, str], protocol: str) -> None:
    key, other = tenant(gateway_env), tenant(gateway_env)
    url = quota_gateway.url
    async with AsyncExitStack() as stack:
        for _ in range(2):
            await stack.enter_async_context(GraphQLWebSocket.connect(url, key))
        with pytest.raises(ConnectionRefused) as refused:
            async with GraphQLWebSocket.connect(url, key, protocol=protocol):
                pass
        assert refused.value.code == 4429
        assert refused.value.reason == ("2 WebSockets of this tenant open on this process; "
                                        "BOOKING_WS_MAX_CONNECTIONS_PER_TENANT allows 2")
        async with GraphQLWebSocket.connect(url, other, protocol=protocol):
            pass  # another tenant's sockets are its own
    # both closed: their seats are given back, again and again
    for _ in range(3):
        async with connected_eventually(url, key, protocol) as a, connected_eventually(url, key, protocol) as b:
            for ws in (a, b):
                assert is_snapshot(await first_answer(ws, await rooms(quota_gateway, key), days(1)))


async def test_subscriptions_over_the_tenants_cap_are_refused_and_completing_or_closing_frees_them(
        quota_gateway: GatewayProcess, gateway_env: dict[str, str]) -> None:
    key = tenant(gateway_env)
    room, = await rooms(quota_gateway, key)
    async with GraphQLWebSocket.connect(quota_gateway.url, key) as second:
        async with GraphQLWebSocket.connect(quota_gateway.url, key) as first:
            ops = [await first.subscribe(ids=[room], window=days(1)) for _ in range(2)]
            assert [is_snapshot(await first.receive()) for _ in ops] == [True, True]
            assert is_snapshot(await first_answer(second, [room], days(1)))

            error = limit_error(await first_answer(second, [room], days(1)))  # the tenant's 4th, over 2 sockets
            assert (await second.receive()).type == "complete"
            assert error["message"] == ("too many subscriptions for this tenant: 3 live on this gateway process, "
                                        "BOOKING_WS_MAX_SUBSCRIPTIONS_PER_TENANT allows 3; complete one first")
            assert error["extensions"] == {"code": "SUBSCRIPTION_LIMIT",
                                           "setting": "BOOKING_WS_MAX_SUBSCRIPTIONS_PER_TENANT", "limit": 3}

            await first.complete(ops[0])
            await subscribed_eventually(second, [room], days(1))
            assert limit_error(await first_answer(second, [room], days(1)))
            assert (await second.receive()).type == "complete"
        # the first socket closed with a subscription live: cancelled, and its share given back
        await subscribed_eventually(second, [room], days(1))
        assert limit_error(await first_answer(second, [room], days(1)))


async def test_the_tenants_resource_days_are_a_budget_naming_the_numbers(
        quota_gateway: GatewayProcess, gateway_env: dict[str, str]) -> None:
    key = tenant(gateway_env)
    a, b = await rooms(quota_gateway, key, 2)
    async with GraphQLWebSocket.connect(quota_gateway.url, key) as ws:
        error = limit_error(await first_answer(ws, [a, b], days(30)))
        assert (await ws.receive()).type == "complete"
        assert error["message"] == ("this subscription covers 60 resource-days (2 resource(s) x 30 day(s)); with the 0 "
                                    "this tenant already holds on this gateway process that is over "
                                    "BOOKING_LIVE_MAX_RESOURCE_DAYS_PER_TENANT=40; subscribe to fewer resources or a "
                                    "shorter window")
        assert error["extensions"] == {"code": "SUBSCRIPTION_LIMIT",
                                       "setting": "BOOKING_LIVE_MAX_RESOURCE_DAYS_PER_TENANT", "limit": 40}

        month = await ws.subscribe(ids=[a], window=days(30))
        assert is_snapshot(await ws.receive())
        error = limit_error(await first_answer(ws, [b], days(15)))
        assert (await ws.receive()).type == "complete"
        assert "covers 15 resource-days (1 resource(s) x 15 day(s)); with the 30 this tenant" in str(error["message"])
        assert is_snapshot(await first_answer(ws, [b], days(10)))  # 40: the whole budget

        await ws.complete(month)
        await subscribed_eventually(ws, [a, b], days(15))


async def test_subscriptions_that_fail_give_their_share_back(
        quota_gateway: GatewayProcess, gateway_env: dict[str, str]) -> None:
    key, stranger = tenant(gateway_env), tenant(gateway_env)
    room, = await rooms(quota_gateway, key)
    foreign, = await rooms(quota_gateway, stranger)
    async with GraphQLWebSocket.connect(quota_gateway.url, key) as ws:
        for _ in range(5):  # counted, then refused as NOT_FOUND when the SNAPSHOT is read
            refused = await first_answer(ws, [foreign], days(1))
            assert refused.payload["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            assert (await ws.receive()).type == "complete"
        for _ in range(3):
            await subscribed_eventually(ws, [room], days(1))
        assert limit_error(await first_answer(ws, [room], days(1)))


async def test_a_second_connection_init_on_graphql_ws_closes_the_socket_and_frees_its_seat(
        quota_gateway: GatewayProcess, gateway_env: dict[str, str]) -> None:
    key = tenant(gateway_env)
    with pytest.raises(websockets.exceptions.ConnectionClosedError) as closed:
        async with GraphQLWebSocket.connect(quota_gateway.url, key, protocol=LEGACY_WS) as ws:
            await ws.ws.send(orjson.dumps({"type": "connection_init",
                                           "payload": {"authorization": f"Bearer {key}"}}).decode())
            async with asyncio.timeout(10):
                while True:
                    await ws.ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4429
    # its seat was given back: both of the tenant's seats can be taken again
    await asyncio.sleep(0.2)
    async with GraphQLWebSocket.connect(quota_gateway.url, key), GraphQLWebSocket.connect(quota_gateway.url, key):
        pass
