"""A loopback TCP proxy between the gateways and Redis that can slow the path down or cut it.

Latency delays every chunk, in both directions, by the latency in force when it arrived (order
is kept, as TCP keeps it). Dropping resets every forwarded connection and refuses new ones until
healed: what a gateway sees when the network to Redis fails. A TCP stream cannot lose bytes in the
middle and carry on, so there is no "drop some packets" mode: long latency is how loss looks to
an application.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

_CHUNK = 65536
_CONNECT_TIMEOUT_S = 1.0


class FaultyProxy:
    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self.latency = 0.0
        self.dropping = False
        self.accepted = 0
        self.refused = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    def url(self, original: str = "redis://127.0.0.1:6379/0") -> str:
        """``original`` (credentials, database, options kept) pointed at the proxy."""
        parts = urlsplit(original)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = (f"{credentials}@" if credentials else "") + f"{self.host}:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def set_latency(self, seconds: float) -> None:
        self.latency = max(0.0, seconds)

    def drop(self) -> None:
        """Reset every forwarded connection and refuse new ones until :meth:`heal`."""
        self.dropping = True
        self.cut()

    def heal(self) -> None:
        self.dropping = False
        self.latency = 0.0

    def cut(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._forward(reader, writer)
        except asyncio.CancelledError:
            # close() cancels the connection handlers; ending quietly spares Python 3.11's
            # start_server a spurious "Exception in callback" for each one (fixed in 3.12)
            pass
        finally:
            self._handlers.discard(task)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.dropping:
            self.refused += 1
            writer.transport.abort()
            return
        try:
            async with asyncio.timeout(_CONNECT_TIMEOUT_S):
                up_reader, up_writer = await asyncio.open_connection(*self.target)
        except (OSError, TimeoutError):
            self.refused += 1
            writer.transport.abort()
            return
        self.accepted += 1
        self._writers.update((writer, up_writer))
        pumps = [asyncio.create_task(self._pipe(reader, up_writer)),
                 asyncio.create_task(self._pipe(up_reader, writer))]
        try:
            # the first direction to end (EOF, reset, cut) ends the connection
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    return
                if (delay := due - loop.time()) > 0:
                    await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()

        delivery = asyncio.create_task(deliver())
        try:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await reader.read(_CHUNK):
                    queue.put_nowait((loop.time() + self.latency, data))
                    if delivery.done():
                        break
            queue.put_nowait((0.0, b""))
            with contextlib.suppress(OSError, ConnectionError):
                await delivery
        finally:
            delivery.cancel()
            await asyncio.gather(delivery, return_exceptions=True)
