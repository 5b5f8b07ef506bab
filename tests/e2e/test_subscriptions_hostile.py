"""Hostile and clumsy WebSocket clients against a production-mode gateway (issue 12): every
operation on both protocols passes the same admission as HTTP, errors are masked as on HTTP,
frames are capped, revoked keys and silent sockets are closed, malformed messages refused."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from booking_gateway.live.wsclient import LEGACY_WS, TRANSPORT_WS, ConnectionRefused, GraphQLWebSocket
from tests.conftest import create_database, database_url_for, drop_database
from tests.e2e.servers import GatewayProcess, cli, create_tenant, graphql, start_gateway
from tests.e2e.test_two_gateways import make_room
from tests.integration.graphql_client import BOOK, CREATE_RESOURCE

HOSTILE = {"BOOKING_ENV": "production", "BOOKING_MAX_QUERY_DEPTH": "4", "BOOKING_MAX_ALIASES": "3",
           "BOOKING_MAX_TOKENS": "300", "BOOKING_RATE_LIMIT_PER_S": "1", "BOOKING_RATE_LIMIT_BURST": "15",
           "BOOKING_WS_INIT_TIMEOUT_MS": "500", "BOOKING_LOG_LEVEL": "INFO"}
DAY = {"start": "2028-03-01T00:00:00Z", "end": "2028-03-02T00:00:00Z"}
PROTOCOLS = [TRANSPORT_WS, LEGACY_WS]

REFUSED_DOCUMENTS = {
    "introspection": "{ __schema { types { name } } }",
    "depth": "{ resources { edges { node { bookings { edges { node { resource { name } } } } } } } }",
    "aliases": "{ a: __typename b: __typename c: __typename d: __typename }",
    "tokens": "{ " + " ".join(["__typename"] * 320) + " }",
}


@pytest.fixture(scope="module")
def hostile(gateway_env: dict[str, str], logs_dir: Path) -> Iterator[GatewayProcess]:
    gateway = start_gateway({**gateway_env, **HOSTILE}, logs_dir, name="hostile-ws")
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture
def broken_database(redis_url: str, logs_dir: Path) -> Iterator[tuple[GatewayProcess, str, str]]:
    """A gateway on a scratch database, which the test then breaks on purpose."""
    name = asyncio.run(create_database("bg_broken_ws"))
    url = database_url_for(name)
    env = {"BOOKING_DATABASE_URL": url, "BOOKING_REDIS_URL": redis_url, "BOOKING_LOG_LEVEL": "INFO",
           "BOOKING_REQUEST_TIMEOUT_MS": "1500",
           "BOOKING_REDIS_PREFIX": f"broken-ws-{secrets.token_hex(3)}"}
    cli("migrate", env=env)
    key = create_tenant("broken", env)
    gateway = start_gateway(env, logs_dir, name="broken-ws")
    try:
        yield gateway, key, url
    finally:
        gateway.stop()
        asyncio.run(drop_database(name))


@pytest.fixture
def key(gateway_env: dict[str, str]) -> str:
    return create_tenant(f"ws-hostile-{secrets.token_hex(4)}", gateway_env)


def ws_url(gateway: GatewayProcess) -> str:
    return gateway.url.replace("http://", "ws://", 1) + "/graphql"


@asynccontextmanager
async def raw(gateway: GatewayProcess, protocol: str, key: str | None = None) -> AsyncIterator[ClientConnection]:
    """A bare socket; with a key, connection_init is sent and acknowledged first."""
    async with connect(ws_url(gateway), subprotocols=[Subprotocol(protocol)], open_timeout=10,
                       max_size=None) as ws:
        if key is not None:
            await ws.send(orjson.dumps({"type": "connection_init",
                                        "payload": {"authorization": f"Bearer {key}"}}).decode())
            async with asyncio.timeout(10):
                while orjson.loads(await ws.recv()).get("type") != "connection_ack":
                    pass
        yield ws


async def until_closed(ws: ClientConnection, wait_s: float = 10) -> list[dict[str, Any]]:
    """The messages received until the server closed the socket."""
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(wait_s):
        try:
            while True:
                received.append(orjson.loads(await ws.recv()))
        except ConnectionClosed:
            return received


async def operation_error(gateway: GatewayProcess, key: str, protocol: str, query: str) -> dict[str, Any]:
    """The first error the server answers an operation with (graphql-transport-ws sends a list)."""
    async with GraphQLWebSocket.connect(gateway.url, key, protocol=protocol) as ws:
        op = await ws.subscribe(query)
        answer = await ws.receive()
    assert (answer.id, answer.type) == (op, "error"), answer
    error: dict[str, Any] = answer.payload[0] if protocol == TRANSPORT_WS else answer.payload
    return error


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_document_refused_over_http_is_refused_over_websocket_alike(
        hostile: GatewayProcess, key: str, protocol: str) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for name, query in REFUSED_DOCUMENTS.items():
            over_http = (await http.post(f"{hostile.url}/graphql", json={"query": query},
                                         headers={"Authorization": f"Bearer {key}"})).json()["errors"][0]
            over_ws = await operation_error(hostile, key, protocol, query)
            assert over_ws["message"] == over_http["message"], name
            assert over_ws.get("extensions") == over_http.get("extensions"), name
    # the refusals name their limits, and introspection is off in production on WebSockets too
    assert "introspection" in (await operation_error(hostile, key, protocol, REFUSED_DOCUMENTS["introspection"])
                               )["message"].lower()
    assert "exceeds maximum operation depth of 4" in (
        await operation_error(hostile, key, protocol, REFUSED_DOCUMENTS["depth"]))["message"]
    assert "4 aliases found. Allowed: 3" in (
        await operation_error(hostile, key, protocol, REFUSED_DOCUMENTS["aliases"]))["message"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_mutations_over_websocket_are_rate_limited(hostile: GatewayProcess, key: str, protocol: str) -> None:
    async with GraphQLWebSocket.connect(hostile.url, key, protocol=protocol) as ws:
        answers = []
        for i in range(25):  # a bucket of 15, refilled at 1/s
            op = await ws.subscribe(CREATE_RESOURCE, input={"clientMutationId": f"ws-{i}", "name": f"Room {i}"})
            answer = await ws.receive()
            assert answer.id == op
            answers.append(answer)
            if answer.type == "next":
                assert (await ws.receive()).type == "complete"
    made = [a for a in answers if a.type == "next"]
    refused = [a for a in answers if a.type == "error"]
    assert made
    assert made[0].payload["data"]["createResource"]["error"] is None
    assert len(refused) >= 5, [a.type for a in answers]
    error = refused[0].payload[0] if protocol == TRANSPORT_WS else refused[0].payload
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["message"].startswith("rate limit of this tenant exceeded; retry in")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_unexpected_errors_over_websocket_are_masked_as_on_http(
        broken_database: tuple[GatewayProcess, str, str], protocol: str) -> None:
    gateway, key, url = broken_database
    async with httpx.AsyncClient(timeout=10) as http:
        room = await make_room(http, gateway, key, "Broken room")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("ALTER TABLE bookings RENAME TO bookings_gone")  # the SNAPSHOT's read fails
        async with GraphQLWebSocket.connect(gateway.url, key, protocol=protocol) as ws:
            op = await ws.subscribe(ids=[room], window=DAY)
            answer = await ws.receive()
            assert (await ws.receive()).type == "complete"
    finally:
        await conn.execute("ALTER TABLE bookings_gone RENAME TO bookings")
        await conn.close()
    assert (answer.id, answer.type) == (op, "next")
    assert answer.payload["data"] is None
    error = answer.payload["errors"][0]
    request_id = error["extensions"]["requestId"]
    assert error["message"] == f"internal error; quote request id {request_id} to the operator"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    text = orjson.dumps(answer.payload).decode().lower()
    for leak in ("bookings", "relation", "asyncpg", "traceback", "select", "postgres"):
        assert leak not in text, leak
    await asyncio.sleep(0.3)
    log = gateway.log()
    assert f"request {request_id}: unexpected error" in log
    logged = log[log.index(f"request {request_id}"):]
    assert "Traceback" in logged
    assert 'relation "bookings" does not exist' in logged


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_mutation_over_websocket_gets_the_request_time_limit_of_http(
        broken_database: tuple[GatewayProcess, str, str], protocol: str) -> None:
    gateway, key, url = broken_database
    async with httpx.AsyncClient(timeout=10) as http:
        room = await make_room(http, gateway, key, "Locked room")
    booking = {"input": {"clientMutationId": f"slow-{protocol}", "resourceId": room,
                         "start": "2028-03-01T09:00:00Z", "end": "2028-03-01T10:00:00Z"}}
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction(), GraphQLWebSocket.connect(gateway.url, key, protocol=protocol) as ws:
            await conn.execute("LOCK TABLE bookings IN ACCESS EXCLUSIVE MODE")
            op = await ws.subscribe(BOOK, **booking)
            answer = await ws.receive(wait_s=6)  # BOOKING_REQUEST_TIMEOUT_MS=1500
    finally:
        await conn.close()
    assert (answer.id, answer.type) == (op, "next")
    error = answer.payload["errors"][0]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert "retry it with the same clientMutationId" in error["message"]
    async with GraphQLWebSocket.connect(gateway.url, key, protocol=protocol) as ws:  # the retry, lock gone
        await ws.subscribe(BOOK, **booking)
        assert (await ws.receive()).payload["data"]["bookSlot"]["booking"] is not None


async def test_a_frame_over_the_size_limit_closes_the_socket_and_the_server_stays_up(
        hostile: GatewayProcess, key: str) -> None:
    frame = orjson.dumps({"id": "1", "type": "subscribe", "payload": {
        "query": "{ " + " ".join(f"a{i}: __typename" for i in range(220_000)) + " }"}}).decode()
    assert len(frame) > 4_000_000
    async with raw(hostile, TRANSPORT_WS, key) as ws:
        started = time.monotonic()
        with suppress(ConnectionClosed):  # the server may close before the client has written it all
            await ws.send(frame)
        await until_closed(ws)
        elapsed = time.monotonic() - started
    assert ws.close_code == 1009, (ws.close_code, ws.close_reason)
    assert elapsed < 5, elapsed  # measured: well under 100 ms (the frame is refused by its header)
    async with GraphQLWebSocket.connect(hostile.url, key) as next_client:
        await next_client.subscribe("{ __typename }")
        assert (await next_client.receive()).payload == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_revoked_key_closes_its_open_sockets_within_the_key_cache_ttl(
        hostile: GatewayProcess, gateway_env: dict[str, str], protocol: str) -> None:
    tenant = f"ws-revoke-{secrets.token_hex(3)}"
    owner = create_tenant(tenant, gateway_env)
    doomed = cli("key", "create", tenant, env=gateway_env).stdout.strip().splitlines()[-1].split()[-1]
    async with httpx.AsyncClient(timeout=10) as http:
        room = await make_room(http, hostile, owner, "Revoked room")
        async with GraphQLWebSocket.connect(hostile.url, doomed, protocol=protocol) as ws:
            await ws.subscribe(ids=[room], window=DAY)
            assert (await ws.receive()).payload["data"]["availabilityChanged"]["reason"] == "SNAPSHOT"
            await asyncio.to_thread(cli, "key", "revoke", doomed, env=gateway_env)
            revoked_at = time.monotonic()  # committed once the command has returned
            received = await until_closed(ws.ws, wait_s=5)
            elapsed = time.monotonic() - revoked_at
            # the socket is gone: a booking made now reaches nobody on it
            await graphql(http, hostile.url, owner, CREATE_RESOURCE,
                          input={"clientMutationId": "after", "name": "After"})
    assert ws.ws.close_code == 4403
    assert ws.ws.close_reason == "API key revoked"
    assert elapsed <= 1.5, elapsed
    assert all(m.get("type") in ("ping", "ka", "complete") for m in received), received
    with pytest.raises(ConnectionRefused) as refused:
        async with GraphQLWebSocket.connect(hostile.url, doomed, protocol=protocol):
            pass
    assert refused.value.code == 4403


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_socket_without_connection_init_is_closed_after_the_init_timeout(
        hostile: GatewayProcess, protocol: str) -> None:
    async with raw(hostile, protocol) as ws:
        started = time.monotonic()
        await until_closed(ws, wait_s=5)
        elapsed = time.monotonic() - started
    assert ws.close_code == 4408, (ws.close_code, ws.close_reason)
    assert 0.3 < elapsed < 3, elapsed  # BOOKING_WS_INIT_TIMEOUT_MS=500


MALFORMED: list[str | bytes] = [
    "[]", '{"no": "type"}', '"text"', "42", "null", "not json {", b"\x00\x01binary",
    '{"type": "subscribe"}', '{"type": "start"}', '{"type": "subscribe", "id": "1"}', '{"type": "start", "id": "1"}',
    '{"type": "subscribe", "id": "1", "payload": "query"}', '{"type": "start", "id": "1", "payload": []}',
    '{"type": "subscribe", "id": 1, "payload": {"query": "{ __typename }"}}',
    '{"type": "start", "id": "1", "payload": {"query": 5}}',
    '{"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }", "variables": []}}',
    '{"type": "start", "id": "1", "payload": {"query": "{ __typename }", "operationName": 3}}',
    '{"type": "complete"}', '{"type": "stop", "id": null}', '{"type": 7}',
]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_malformed_messages_close_with_4400_and_no_traceback(
        hostile: GatewayProcess, key: str, protocol: str) -> None:
    log_before = len(hostile.log())
    for message in MALFORMED:
        async with raw(hostile, protocol, key) as ws:
            await ws.send(message)
            received = await until_closed(ws)
        assert ws.close_code == 4400, (message, ws.close_code, ws.close_reason)
        assert ws.close_reason, message
        if protocol == LEGACY_WS:
            assert [m["type"] for m in received if m["type"] != "ka"] == ["connection_error"], (message, received)
    async with GraphQLWebSocket.connect(hostile.url, key, protocol=protocol) as ws:  # still serving
        await ws.subscribe("{ __typename }")
        assert (await ws.receive()).payload == {"data": {"__typename": "Query"}}
    await asyncio.sleep(0.3)
    new_log = hostile.log()[log_before:]
    assert "Traceback" not in new_log, new_log[-3000:]
    assert "Exception" not in new_log, new_log[-3000:]
