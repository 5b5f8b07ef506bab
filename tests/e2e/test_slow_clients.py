"""Clients that send their request slowly (slowloris) against a real ``booking-gateway serve``:
headers within BOOKING_HTTP_HEADER_TIMEOUT_MS, bodies within BOOKING_HTTP_BODY_TIMEOUT_MS, or the
connection is closed; clients that are slow but within the limits are served."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
import uvicorn

from booking_gateway.web.header_timeout import H11HeaderTimeout, HttpToolsHeaderTimeout
from tests.e2e.servers import GatewayProcess, free_port, start_gateway

TIMEOUT_S = 1.0
#: How long after the limit a connection may still be open: wide, the machine is shared
MARGIN_S = 2.5
QUERY = orjson.dumps({"query": "{ __typename }"})


@pytest.fixture(scope="module")
def gateway(gateway_env: dict[str, str], logs_dir: Path) -> Iterator[GatewayProcess]:
    env = {**gateway_env, "BOOKING_HTTP_HEADER_TIMEOUT_MS": str(int(TIMEOUT_S * 1000)),
           "BOOKING_HTTP_BODY_TIMEOUT_MS": str(int(TIMEOUT_S * 1000)), "BOOKING_RATE_LIMIT_PER_S": "0"}
    process = start_gateway(env, logs_dir, name="slow-clients")
    try:
        yield process
    finally:
        process.stop()


async def drip(gateway: GatewayProcess, start: bytes, trickle: bytes, every_s: float,
               give_up_s: float = TIMEOUT_S + MARGIN_S + 2) -> tuple[float | None, bytes]:
    """Send ``start`` at once, then ``trickle`` a byte every ``every_s`` until the server closes
    the connection: (seconds from connecting until it did, or None if it never did; what it sent)."""
    address = urlsplit(gateway.url)
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    reading = asyncio.create_task(reader.read(-1))  # everything, until the server closes
    try:
        if start:
            writer.write(start)
        for i in range(len(trickle)):
            if reading.done() or time.monotonic() - started > give_up_s:
                break
            try:
                writer.write(trickle[i:i + 1])
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.wait({reading}, timeout=every_s)
        try:
            left = max(0.0, give_up_s - (time.monotonic() - started))
            received = await asyncio.wait_for(asyncio.shield(reading), left)
        except TimeoutError:
            return None, b""
        return time.monotonic() - started, received
    finally:
        reading.cancel()
        writer.close()


HEADERS_FOREVER = b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nX-Slow: " + b"a" * 1000


def assert_closed_after_the_limit(elapsed: float | None) -> None:
    assert elapsed is not None, "the server never closed the connection"
    assert TIMEOUT_S * 0.9 <= elapsed <= TIMEOUT_S + MARGIN_S, elapsed


async def test_headers_sent_a_byte_at_a_time_are_cut_off_with_408(gateway: GatewayProcess) -> None:
    elapsed, received = await drip(gateway, b"", HEADERS_FOREVER, 0.2)
    assert_closed_after_the_limit(elapsed)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in head.lower()
    error = orjson.loads(body)["errors"][0]
    assert error["message"] == ("the request headers did not arrive within 1 s "
                                "(limit BOOKING_HTTP_HEADER_TIMEOUT_MS)")
    assert error["extensions"]["code"] == "REQUEST_TIMEOUT"


async def test_a_connection_that_sends_nothing_is_closed(gateway: GatewayProcess) -> None:
    elapsed, received = await drip(gateway, b"", b"", 0.2)
    assert_closed_after_the_limit(elapsed)
    assert received == b""  # no request began: nothing to answer


async def test_a_body_sent_a_byte_at_a_time_is_cut_off_with_408(gateway: GatewayProcess, api_key: str) -> None:
    head = (b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + api_key.encode() + b"\r\nContent-Length: 1000\r\n\r\n")
    elapsed, received = await drip(gateway, head, b" " * 1000, 0.2)
    assert_closed_after_the_limit(elapsed)
    head_received, _, body = received.partition(b"\r\n\r\n")
    assert head_received.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in head_received.lower()
    error = orjson.loads(body)["errors"][0]
    assert error["message"] == "the request body did not arrive within 1 s (limit BOOKING_HTTP_BODY_TIMEOUT_MS)"
    assert error["extensions"]["code"] == "REQUEST_TIMEOUT"


async def test_a_slow_client_within_the_limits_is_served(gateway: GatewayProcess, api_key: str) -> None:
    address = urlsplit(gateway.url)
    head = (b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + api_key.encode() + b"\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(QUERY)).encode() + b"\r\n\r\n")
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        for part in (head[:20], head[20:60], head[60:]):  # headers over ~0.3 s, then the body over ~0.3 s
            writer.write(part)
            await asyncio.sleep(0.15)
        for part in (QUERY[:5], QUERY[5:12], QUERY[12:]):
            writer.write(part)
            await asyncio.sleep(0.15)
        received = await asyncio.wait_for(reader.read(-1), 10)
    finally:
        writer.close()
    head_received, _, body = received.partition(b"\r\n\r\n")
    assert head_received.startswith(b"HTTP/1.1 200 ")
    assert orjson.loads(body) == {"data": {"__typename": "Query"}}


async def test_many_slow_clients_neither_stay_nor_stop_others_being_served(gateway: GatewayProcess,
                                                                           api_key: str) -> None:
    slow = [asyncio.create_task(drip(gateway, b"", HEADERS_FOREVER, 0.2)) for _ in range(100)]
    await asyncio.sleep(0.3)  # all of them connected and dripping
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(f"{gateway.url}/graphql", json={"query": "{ __typename }"},
                                   headers={"Authorization": f"Bearer {api_key}"})
    assert answer.status_code == 200
    assert answer.json() == {"data": {"__typename": "Query"}}
    assert not any(task.done() for task in slow)  # answered while they were all still connected
    for elapsed, received in await asyncio.gather(*slow):
        assert_closed_after_the_limit(elapsed)
        assert received.startswith(b"HTTP/1.1 408 ")


# --- both of uvicorn's HTTP/1.1 protocols, in process -------------------------------------------


class FastH11(H11HeaderTimeout):
    header_timeout_s = TIMEOUT_S


class FastHttpTools(HttpToolsHeaderTimeout):
    header_timeout_s = TIMEOUT_S


async def hello(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(params=[FastH11, FastHttpTools], ids=["h11", "httptools"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[GatewayProcess]:
    port = free_port()
    config = uvicorn.Config(hello, port=port, http=request.param, log_level="warning", lifespan="off")
    instance = uvicorn.Server(config)
    serving = asyncio.create_task(instance.serve())
    for _ in range(1000):  # up to 10 s
        if instance.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield GatewayProcess(f"http://127.0.0.1:{port}", cast(Any, None), Path())
    finally:
        instance.should_exit = True
        await serving


GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


async def test_each_protocol_cuts_off_dripped_headers(server: GatewayProcess) -> None:
    elapsed, received = await drip(server, b"", HEADERS_FOREVER, 0.2)
    assert_closed_after_the_limit(elapsed)
    assert received.startswith(b"HTTP/1.1 408 ")


async def test_each_protocol_times_the_next_request_on_a_kept_alive_connection(server: GatewayProcess) -> None:
    elapsed, received = await drip(server, GET, HEADERS_FOREVER, 0.2)  # one request served, then a slow one
    assert elapsed is not None
    assert TIMEOUT_S * 0.9 <= elapsed <= TIMEOUT_S + 0.2 * 2 + MARGIN_S
    first, _, rest = received.partition(b"ok")
    assert first.startswith(b"HTTP/1.1 200 ")
    assert rest.startswith(b"HTTP/1.1 408 ")


async def test_each_protocol_leaves_a_served_connection_to_the_keep_alive(server: GatewayProcess) -> None:
    address = urlsplit(server.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(GET)
        assert (await asyncio.wait_for(reader.readuntil(b"ok"), 5)).startswith(b"HTTP/1.1 200 ")
        await asyncio.sleep(TIMEOUT_S * 1.5)  # past the header limit, within uvicorn's 5 s keep-alive
        writer.write(GET)
        assert (await asyncio.wait_for(reader.readuntil(b"ok"), 5)).startswith(b"HTTP/1.1 200 ")
    finally:
        writer.close()
