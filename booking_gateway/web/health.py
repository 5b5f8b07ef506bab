"""Liveness and readiness: /healthz says the process runs, /readyz what it can reach."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

log = logging.getLogger(__name__)

#: How long a readiness probe waits for each dependency.
PROBE_TIMEOUT_S = 2.0


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def readyz(database: Callable[[], Awaitable[None]], redis: Callable[[], Awaitable[bool]], *,
           rate_limit: Callable[[], str] | None = None,
           hold_sweeper: Callable[[], str] | None = None) -> Callable[[Request], Awaitable[JSONResponse]]:
    """PostgreSQL unreachable: 503 (nothing can be booked). Redis unreachable: 200 "degraded"
    (bookings continue without the range lock, kept correct by the exclusion constraint, and
    the rate limiter lets requests through: it fails open)."""

    async def endpoint(_: Request) -> JSONResponse:
        postgres = await _probe("postgres", database)
        redis_ok = await _probe("redis", _truthy(redis))
        status = "unavailable" if postgres != "ok" else ("ok" if redis_ok == "ok" else "degraded")
        body = {"status": status, "postgres": postgres, "redis": redis_ok}
        if rate_limit is not None:
            limiter = rate_limit()
            body["rate_limit"] = "degraded: failing open" if limiter == "degraded" else limiter
        if hold_sweeper is not None:  # informative: holds expire on time without it
            body["hold_sweeper"] = hold_sweeper()
        return JSONResponse(body, status_code=503 if status == "unavailable" else 200)

    return endpoint


def _truthy(check: Callable[[], Awaitable[bool]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        if not await check():
            raise ConnectionError("not reachable")
    return run


async def _probe(name: str, check: Callable[[], Awaitable[None]]) -> str:
    try:
        await asyncio.wait_for(check(), PROBE_TIMEOUT_S)
    except Exception as err:  # any failure means "not ready"; say which
        log.warning("readiness: %s unreachable: %s", name, err or type(err).__name__)
        return "unreachable"  # details stay in the log
    return "ok"
