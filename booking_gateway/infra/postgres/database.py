"""The request path's PostgreSQL pool: asyncpg, used directly.

Measured on this project's statements (figures in benchmarks/README.md): a round trip
through SQLAlchemy's async engine costs several times the CPU of one through a plain
asyncpg pool, and less again once the pool skips its reset query on release. The request
path therefore uses asyncpg directly, with prepared statements (asyncpg caches them per
connection) and no reset query: every transaction is opened with ``async with`` and so
always ends, and asyncpg still rolls back one left open. SQLAlchemy Core stays for the
schema, the migrations and the operator tooling, where clarity beats microseconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg

from booking_gateway.infra.postgres.engine import redact
from booking_gateway.infra.postgres.sql import SQL

log = logging.getLogger(__name__)
T = TypeVar("T")

APPLICATION_NAME = "booking-gateway"

#: The connection died under the statement (a failover, pg_terminate_backend, a restart):
#: the statement is tried once more on a fresh connection. Safe for every single statement of
#: the store, because the writes among them are keyed by the request's clientMutationId.
CONNECTION_LOST: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError, asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError, asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError,
    ConnectionError,
)


async def _no_reset(_: asyncpg.Connection) -> None:
    """Skip ``RESET ALL``/``UNLISTEN``... on release: the gateway never changes session state."""


class Database:
    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 10,
                 command_timeout_s: float | None = None) -> None:
        """``command_timeout_s``: a per-statement limit; None (default) leaves it to the caller's
        deadline (the HTTP edge's request timeout cancels the statement), saving a timer per
        statement on the hot path."""
        self._url = url
        self._min_size = min(min_size, max_size)
        self._max_size = max_size
        self._timeout = command_timeout_s
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    def __repr__(self) -> str:
        return f"Database({redact(self._url)})"

    async def pool(self) -> asyncpg.Pool:
        """The pool, opened on first use (inside the running event loop)."""
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._url, min_size=self._min_size, max_size=self._max_size,
                        command_timeout=self._timeout, reset=_no_reset,
                        server_settings={"application_name": APPLICATION_NAME})
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        pool = await self.pool()
        async with pool.acquire() as conn:
            yield conn

    async def fetchrow(self, statement: SQL, params: Mapping[str, object]) -> Any:
        args = statement.args(params)
        return await self._once_more_if_lost(lambda conn: conn.fetchrow(statement.text, *args))

    async def fetch(self, statement: SQL, params: Mapping[str, object]) -> list[Any]:
        args = statement.args(params)
        return list(await self._once_more_if_lost(lambda conn: conn.fetch(statement.text, *args)))

    async def _once_more_if_lost(self, run: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        pool = await self.pool()
        try:
            async with pool.acquire() as conn:
                return await run(conn)
        except CONNECTION_LOST as err:
            log.warning("database connection lost (%s: %s); retrying once on a fresh one",
                        type(err).__name__, err)
            await pool.expire_connections()  # its siblings are likely dead too (failover, restart)
        async with pool.acquire() as conn:
            return await run(conn)

    async def expire(self) -> None:
        """Replace every pooled connection at its next use (after one was found dead)."""
        if self._pool is not None:
            await self._pool.expire_connections()

    async def ping(self) -> None:
        pool = await self.pool()
        async with pool.acquire() as conn:
            await conn.fetchval("SELECT 1")

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
