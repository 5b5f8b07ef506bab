"""Helpers for tests against the real Redis (``BOOKING_TEST_REDIS_URL``, default 127.0.0.1:6379).

Plain helpers rather than fixtures, so test modules define their own few-line fixtures and
nothing depends on conftest plumbing. Every test works under its own key prefix and deletes
what it created; nothing here ever flushes the shared Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis

REDIS_URL = os.environ.get("BOOKING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unique_prefix() -> str:
    return f"bgtest-{uuid.uuid4().hex[:12]}"


@contextlib.asynccontextmanager
async def redis_client(url: str = REDIS_URL, **options: Any) -> AsyncIterator[Redis]:
    client: Redis = Redis.from_url(url, **options)
    try:
        yield client
    finally:
        await client.aclose()


async def delete_prefixed(client: Redis, prefix: str) -> None:
    """Delete every key under ``prefix:`` (SCAN, not KEYS: the Redis is shared)."""
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=500)]
    if keys:
        await client.delete(*keys)


class TcpProxy:
    """A TCP forwarder to Redis that a test can cut and restore, to simulate an outage.

    ``cut()`` stops listening and drops every forwarded connection; ``restore()`` listens
    again on the same port.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()
        self.port = 0

    def url(self, original: str = REDIS_URL) -> str:
        """``original`` (credentials, database and options kept) pointed at the proxy."""
        parts = urlsplit(original)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@" if credentials else ""
        return urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{self.port}"))

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        for task in list(self._pumps):
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers.update((writer, up_writer))
        pumps = [asyncio.create_task(self._pump(reader, up_writer)),
                 asyncio.create_task(self._pump(up_reader, writer))]
        self._pumps.update(pumps)
        await asyncio.gather(*pumps, return_exceptions=True)
        self._pumps.difference_update(pumps)
        for w in (writer, up_writer):
            w.close()
            self._writers.discard(w)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()


def redis_host_port(url: str = REDIS_URL) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A Redis URL whose server accepts connections and never answers (a black-holed Redis)."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(65536):
            pass
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        yield f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}/0"
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()
