"""The torture tool's fault proxy, against an echo server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from booking_gateway.torture.proxy import FaultyProxy


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    writers: list[asyncio.StreamWriter] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


@pytest.fixture
async def proxy(echo_port: int) -> AsyncIterator[FaultyProxy]:
    p = FaultyProxy("127.0.0.1", echo_port)
    await p.start()
    try:
        yield p
    finally:
        await p.close()


async def roundtrip(port: int, payload: bytes = b"PING\r\n") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.readexactly(len(payload)), 2.0)
    finally:
        writer.close()
        await _closed(writer)


async def ended(reader: asyncio.StreamReader) -> bool:
    """The peer went away: EOF or a reset."""
    try:
        return await asyncio.wait_for(reader.read(), 2.0) == b""
    except ConnectionError:
        return True


async def _closed(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def test_forwards_both_ways_and_rewrites_urls(proxy: FaultyProxy) -> None:
    assert await roundtrip(proxy.port, b"hello" * 10_000) == b"hello" * 10_000
    assert proxy.url("redis://:secret@10.0.0.1:6379/3") == f"redis://:secret@127.0.0.1:{proxy.port}/3"
    assert proxy.accepted == 1


async def test_latency_delays_every_chunk(proxy: FaultyProxy) -> None:
    proxy.set_latency(0.2)
    started = time.monotonic()
    assert await roundtrip(proxy.port) == b"PING\r\n"
    assert time.monotonic() - started >= 0.4  # there and back
    proxy.heal()
    started = time.monotonic()
    await roundtrip(proxy.port)
    assert time.monotonic() - started < 0.2


async def test_drop_resets_open_connections_and_refuses_new_ones_until_healed(proxy: FaultyProxy) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(b"a")
    assert await reader.readexactly(1) == b"a"

    proxy.drop()
    assert await ended(reader)
    writer.close()
    await _closed(writer)
    with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
        await roundtrip(proxy.port)
    assert proxy.refused >= 1

    proxy.heal()
    assert await roundtrip(proxy.port) == b"PING\r\n"


async def test_a_dead_target_closes_the_client_connection(echo_port: int) -> None:
    p = FaultyProxy("127.0.0.1", 1)  # nothing listens on port 1
    await p.start()
    try:
        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await roundtrip(p.port)
        assert p.refused == 1
    finally:
        await p.close()


async def test_close_ends_every_forwarded_connection(echo_port: int) -> None:
    p = FaultyProxy("127.0.0.1", echo_port)
    await p.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", p.port)
    writer.write(b"x")
    assert await reader.readexactly(1) == b"x"
    await p.close()
    assert await ended(reader)
    writer.close()
    await _closed(writer)
