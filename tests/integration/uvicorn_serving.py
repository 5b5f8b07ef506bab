"""One way for integration tests to serve an app over real HTTP: uvicorn in the test's own loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp

from tests.e2e.servers import free_port


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, start_s: float = 10.0) -> AsyncIterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 (lifespan on) and yield its base URL; stop it after."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                                           lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(int(start_s / 0.02)):
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        await task
