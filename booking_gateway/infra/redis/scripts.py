"""Lua scripts run over a small pool of redis-py connections, without the client's layers.

Every booking runs two scripts (acquire; release, which also publishes) and every request one
more (the rate limit). Through ``Redis.register_script`` a call cost about twice the CPU
(pool condition, retry wrapper, observability hooks) of one on a redis-py ``Connection``
taken from a plain list; less again with the two savings below (benchmarks/README.md). Same connections, same
protocol code for replies, same errors.

* Commands are packed here (RESP, a few lines), the ``EVALSHA <sha>`` head once per script,
  and sent with ``send_packed_command``: redis-py's ``pack_command`` encodes argument by
  argument through its ``Encoder``.
* The connections have no socket timeout of their own: redis-py would wrap every write in
  ``asyncio.wait_for`` (a task per write) and every read in ``asyncio.timeout``. A whole call
  (slot, connect, send, reply) is bounded once instead, by the caller's :class:`Deadlines` or
  by ``socket_timeout``, on a shared timer (:mod:`booking_gateway.infra.deadlines`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import ConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.commands.core import AsyncScript
from redis.exceptions import DataError, NoScriptError

from booking_gateway.infra.deadlines import Deadlines
from booking_gateway.infra.redis.protocol import RESP_PROTOCOL

Arg = int | str | bytes


class ScriptRunner:
    """EVALSHA (EVAL once after a Redis restart forgot the script) on pooled connections.

    A connection whose call failed or was cancelled is dropped, never reused: it may still owe
    a reply. Errors are redis-py's (``ConnectionError``, ``ResponseError``, ``DataError``), and
    the builtin :class:`TimeoutError` when a call runs past its time limit.
    """

    def __init__(self, url: str, *, max_connections: int = 64, **connection_options: Any) -> None:
        # only parses the URL; RESP2 unless told otherwise (see infra/redis/protocol.py)
        parsed = ConnectionPool.from_url(url, **{"protocol": RESP_PROTOCOL, **connection_options})
        self._connection_class = parsed.connection_class
        kwargs = dict(parsed.connection_kwargs)
        socket_timeout = kwargs.pop("socket_timeout", None)
        if kwargs.get("socket_connect_timeout") is None:
            kwargs["socket_connect_timeout"] = socket_timeout
        self._connection_kwargs = {**kwargs, "socket_timeout": None}
        self._deadlines = Deadlines(socket_timeout) if socket_timeout else None
        self._idle: list[AbstractConnection] = []
        self._slots = asyncio.Semaphore(max_connections)
        self._heads: dict[str, bytes] = {}

    async def run(self, script: AsyncScript, keys: Sequence[str], args: Sequence[Arg],
                  deadlines: Deadlines | None = None) -> Any:
        """The script's reply, within ``deadlines`` (default: the ``socket_timeout`` given)."""
        deadlines = deadlines or self._deadlines
        if deadlines is None:
            return await self._run(script, keys, args)
        with deadlines.limit():
            return await self._run(script, keys, args)

    async def _run(self, script: AsyncScript, keys: Sequence[str], args: Sequence[Arg]) -> Any:
        async with self._slots:
            conn = self._idle.pop() if self._idle else self._connection_class(**self._connection_kwargs)
            try:
                reply = await self._evalsha(conn, script, keys, args)
            except BaseException:
                await conn.disconnect(nowait=True)
                raise
            self._idle.append(conn)
            return reply

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.disconnect()

    async def _evalsha(self, conn: AbstractConnection, script: AsyncScript, keys: Sequence[str],
                       args: Sequence[Arg]) -> Any:
        head = self._heads.get(script.sha)
        if head is None:
            head = self._heads[script.sha] = b"$7\r\nEVALSHA\r\n" + _bulk(script.sha)
        tail = _bulk(len(keys)) + b"".join(map(_bulk, keys)) + b"".join(map(_bulk, args))
        count = b"*%d\r\n" % (3 + len(keys) + len(args))
        try:
            await conn.send_packed_command(count + head + tail, check_health=False)
            return await conn.read_response()
        except NoScriptError:  # EVAL also caches the script for the next EVALSHA
            source = script.script
            source = bytes(source) if isinstance(source, memoryview) else source
            await conn.send_packed_command(pack("EVAL", source, len(keys), *keys, *args), check_health=False)
            return await conn.read_response()


def pack(*parts: Arg) -> bytes:
    """One command in RESP, as redis-py's ``pack_command`` sends it (UTF-8 strings)."""
    return b"*%d\r\n" % len(parts) + b"".join(map(_bulk, parts))


def _bulk(value: Arg) -> bytes:
    if isinstance(value, str):
        value = value.encode()
    elif isinstance(value, int) and not isinstance(value, bool):
        value = b"%d" % value
    elif not isinstance(value, bytes):
        raise DataError(f"invalid input of type {type(value).__name__!r}: pass str, int or bytes")
    return b"$%d\r\n%s\r\n" % (len(value), value)
