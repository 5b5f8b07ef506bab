"""Drive an ASGI HTTP app in process: one request in, the messages it sent out."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp

JSON_WITH_KEY = [(b"content-type", b"application/json"), (b"authorization", b"Bearer key")]


async def asgi_request(app: ASGIApp, body: bytes, headers: list[tuple[bytes, bytes]], *,
                       method: str = "POST") -> list[MutableMapping[str, Any]]:
    """Send ``body`` to ``/graphql`` in one chunk; the ASGI messages the app answered with."""
    scope = {"type": "http", "method": method, "path": "/graphql", "headers": headers, "query_string": b""}
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent
