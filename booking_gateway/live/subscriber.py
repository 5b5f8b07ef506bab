"""The process's one Redis connection in subscribe mode, kept alive and re-established with back-off.

Three tasks while running: the session loop (connect, back off, reconnect), a reader (messages,
subscription replies, PING answers) and a writer (the only task that writes: it turns the
wanted set of channels into batched SUBSCRIBE/UNSUBSCRIBE commands). Callers never write to the
socket, so :meth:`RedisSubscriber.unsubscribe` is synchronous and safe in any ``finally``.

:meth:`RedisSubscriber.subscribe` returns once Redis has applied the SUBSCRIBE: the writer sends
a ``PING`` after it, and Redis answers commands of one connection in order, so its answer proves
that every change published from then on reaches this process.

After every (re)connection, once the wanted channels are subscribed again, ``on_connected`` is
called: what was published while the connection was down is lost, so the hub re-reads.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import suppress

from redis.asyncio import ConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from booking_gateway.infra.redis.protocol import RESP_PROTOCOL

log = logging.getLogger(__name__)

#: Channels per SUBSCRIBE/UNSUBSCRIBE command.
BATCH = 500
_BARRIER = b"bg-barrier"
_KEEPALIVE = b"bg-keepalive"


class RedisSubscriber:
    """Subscribe to channels on one Redis connection; ``on_message(channel, payload)`` per message."""

    def __init__(self, url: str, on_message: Callable[[str, bytes], None],
                 on_connected: Callable[[], None], *, ping_interval_s: float = 5.0,
                 barrier_timeout_s: float = 2.0, backoff_initial_s: float = 0.1,
                 backoff_max_s: float = 5.0) -> None:
        # no socket_timeout: reads time out by themselves (PING), writes fail with the connection
        self._pool = ConnectionPool.from_url(url, socket_connect_timeout=2.0, socket_timeout=None,
                                             retry=Retry(NoBackoff(), 0), protocol=RESP_PROTOCOL)
        self._on_message = on_message
        self._on_connected = on_connected
        self._ping_interval_s = ping_interval_s
        self._barrier_timeout_s = barrier_timeout_s
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._wanted: set[str] = set()
        self._subscribed: set[str] = set()  # as sent on the current connection
        self._dirty = asyncio.Event()
        self._barriers: list[asyncio.Future[None]] = []  # wait for the next PING
        self._pings: deque[list[asyncio.Future[None]]] = deque()  # sent, answer pending
        self._connection: AbstractConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._session_tasks: set[asyncio.Task[None]] = set()
        #: Connections established so far (1 after the first).
        self.connections = 0
        self._ready = False
        self._failures = 0
        self._down_since = time.monotonic()

    @property
    def connected(self) -> bool:
        """Connected, with every wanted channel subscribed (since the last on_connected)."""
        return self._ready

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._wanted)

    def tasks(self) -> int:
        """Tasks this subscriber runs now (for leak checks): 3 while running."""
        return int(self._task is not None and not self._task.done()) + sum(
            not t.done() for t in self._session_tasks)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-redis-subscriber")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        self._release_barriers()
        await self._pool.aclose()

    async def subscribe(self, channels: Iterable[str]) -> None:
        """Subscribe; returns once Redis applied it (at once when disconnected: see on_connected)."""
        self._wanted.update(channels)
        if self._connection is None:
            return
        barrier = asyncio.get_running_loop().create_future()
        self._barriers.append(barrier)
        self._dirty.set()
        try:
            async with asyncio.timeout(self._barrier_timeout_s):  # not wait_for: it can swallow a cancel
                await barrier
        except TimeoutError:
            log.warning("live: Redis did not confirm a SUBSCRIBE within %.1f s; going on",
                        self._barrier_timeout_s)
        finally:
            with suppress(ValueError):
                self._barriers.remove(barrier)

    def unsubscribe(self, channels: Iterable[str]) -> None:
        self._wanted.difference_update(channels)
        self._dirty.set()

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
            except (RedisError, OSError, TimeoutError) as err:
                if self._failures == 0:
                    self._down_since = time.monotonic()
                    log.warning("live: Redis subscriber connection %s (%s: %s); live subscriptions "
                                "wait for it, reconnecting with back-off",
                                "lost" if self.connections else "not established",
                                type(err).__name__, err)
                self._failures += 1
            except Exception:  # a bug must not end live updates for good: log it, start over
                log.exception("live: unexpected error in the Redis subscriber; reconnecting")
                self._failures += 1
            if self._failures and self._failures % 10 == 0:
                log.warning("live: still no Redis subscriber connection after %d attempts (%.0f s)",
                            self._failures, time.monotonic() - self._down_since)
            initial, most = self._backoff
            delay = min(most, initial * 2 ** min(max(self._failures - 1, 0), 16))
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))

    async def _session(self) -> None:
        connection = self._pool.connection_class(**self._pool.connection_kwargs)
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        ready.add_done_callback(lambda f: None if f.cancelled() else self._connected())
        try:
            async with asyncio.timeout(self._ping_interval_s):  # a black-holed Redis never answers HELLO
                await connection.connect()  # type: ignore[no-untyped-call]
            self._connection, self._subscribed = connection, set()
            self._barriers.append(ready)
            self._dirty.set()
            tasks = {asyncio.create_task(self._read(connection), name="live-redis-reader"),
                     asyncio.create_task(self._write(connection), name="live-redis-writer")}
            self._session_tasks = tasks
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
            finally:
                # the writer also stops on this (asyncio.wait_for in redis-py can swallow a cancel)
                self._connection, self._ready = None, False
                self._dirty.set()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            ready.cancel()
            self._connection, self._ready = None, False
            self._release_barriers()
            await connection.disconnect(nowait=True)

    def _connected(self) -> None:
        """The wanted channels are subscribed on a fresh connection: tell the hub to re-read."""
        self.connections += 1
        if self.connections > 1 or self._failures:
            log.warning("live: Redis subscriber connection %s after %.1f s (%d failed attempts); "
                        "%d channel(s) subscribed, every live subscription gets a fresh SNAPSHOT",
                        "re-established" if self.connections > 1 else "established",
                        time.monotonic() - self._down_since, self._failures, len(self._subscribed))
        self._failures = 0
        self._ready = True
        self._on_connected()

    async def _write(self, connection: AbstractConnection) -> None:
        while True:
            await self._dirty.wait()
            if self._connection is not connection:
                return
            self._dirty.clear()
            # taken together: a barrier's PING must follow the SUBSCRIBE of its caller's channels
            wanted, batch, self._barriers = set(self._wanted), self._barriers, []
            if batch:
                self._pings.append(batch)  # released by its PING's answer, or when the session ends
            for command, names in (("SUBSCRIBE", sorted(wanted - self._subscribed)),
                                   ("UNSUBSCRIBE", sorted(self._subscribed - wanted))):
                for start in range(0, len(names), BATCH):
                    await self._send(connection, command, *names[start:start + BATCH])
            self._subscribed = wanted
            if batch:
                await self._send(connection, "PING", _BARRIER)

    async def _read(self, connection: AbstractConnection) -> None:
        waiting_for_pong = False
        while True:
            # push_request: with RESP3, messages are pushes, returned rather than handed to a callback
            reply = await connection.read_response(timeout=self._ping_interval_s, push_request=True)
            if reply is None:  # quiet for a ping interval: is Redis still there?
                if waiting_for_pong:
                    raise TimeoutError(f"no answer to PING within {self._ping_interval_s:.0f} s")
                waiting_for_pong = True
                await self._send(connection, "PING", _KEEPALIVE)
                continue
            waiting_for_pong = False
            if isinstance(reply, list) and reply[0] == b"message":
                self._on_message(reply[1].decode(), reply[2])
            elif _pong(reply) == _BARRIER and self._pings:
                for barrier in self._pings.popleft():
                    if not barrier.done():
                        barrier.set_result(None)

    async def _send(self, connection: AbstractConnection, *args: str | bytes) -> None:
        """Write a command; one that cannot be written within a ping interval ends the session."""
        async with asyncio.timeout(self._ping_interval_s):
            await connection.send_command(*args, check_health=False)

    def _release_barriers(self) -> None:
        """Wake every waiter: without a connection there is nothing to wait for."""
        waiting = [b for batch in self._pings for b in batch] + self._barriers
        self._pings.clear()
        self._barriers = []
        for barrier in waiting:
            if not barrier.done():
                barrier.set_result(None)


def _pong(reply: object) -> object:
    """The argument of a PING answer: ``[b"pong", arg]`` in RESP2 subscribe mode, ``arg`` in RESP3."""
    if isinstance(reply, list):
        return reply[1] if len(reply) == 2 and reply[0] == b"pong" else None
    return reply
