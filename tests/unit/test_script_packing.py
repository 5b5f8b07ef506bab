"""The script runner's own RESP packing and its time limit, without Redis (a local silent server)."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from booking_gateway.infra.deadlines import Deadlines
from booking_gateway.infra.redis.scripts import ScriptRunner, pack


def test_commands_are_packed_byte_for_byte_as_redis_py_packs_them() -> None:
    reference = Connection()
    for parts in [("EVALSHA", "a" * 40, 1, "bg:lock:{t:r}", 1767225600000, 10000,
                   "0123456789abcdef", -5, 0),
                  ("EVAL", "return 1", 0), ("PUBLISH", "chan", b'{"x": "\xc3\xa9"}'), ("SET", "clé", "välue")]:
        assert pack(*parts) == b"".join(reference.pack_command(*parts)), parts


def test_arguments_redis_py_refuses_are_refused() -> None:
    with pytest.raises(DataError):
        pack("SET", "k", True)
    with pytest.raises(DataError):
        pack("SET", "k", 1.5)  # type: ignore[arg-type]


class FakeScript:
    """What the runner reads of a redis-py script."""

    def __init__(self, source: str) -> None:
        self.script = source
        self.sha = "0" * 40


async def test_a_silent_server_costs_one_time_limit_and_its_connection() -> None:
    received = asyncio.Event()
    data = bytearray()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answers the connection's handshake (CLIENT SETINFO), never a script."""
        while chunk := await reader.read(65536):
            if b"EVALSHA" in chunk:
                data.extend(chunk[chunk.rindex(b"*", 0, chunk.index(b"EVALSHA")):])
                received.set()
            elif not received.is_set():
                writer.write(b"+OK\r\n" * (chunk.count(b"\r\n*") + 1))
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    runner = ScriptRunner(f"redis://127.0.0.1:{port}/0", max_connections=1, socket_timeout=5.0)
    script = FakeScript("return 1")
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await runner.run(script, ["k"], [7, "0123"], Deadlines(0.05))  # type: ignore[arg-type]
        assert time.monotonic() - started < 1, "the caller's limit, not the socket timeout, applies"
        assert received.is_set()
        assert bytes(data) == pack("EVALSHA", "0" * 40, 1, "k", 7, "0123")
        assert runner._idle == [], "a connection that may still owe a reply is dropped"
        received.clear()
        other = ScriptRunner(f"redis://127.0.0.1:{port}/0", socket_timeout=0.05)
        with pytest.raises(TimeoutError):  # without a limit of the caller's, socket_timeout bounds a call
            await other.run(script, ["k"], [])  # type: ignore[arg-type]
        assert received.is_set()
    finally:
        await runner.aclose()
        server.close()
