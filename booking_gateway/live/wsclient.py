"""A small GraphQL-over-WebSocket client, for smoke checks, the tests and the fan-out benchmark.

Speaks graphql-transport-ws (and the legacy graphql-ws): authenticates in ``connection_init``,
answers the server's keep-alive pings, and hands out the messages of subscriptions as
:class:`Received` values (``next``/``error``/``complete``, whatever the protocol calls them).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"

SUBSCRIBE_AVAILABILITY = """
subscription($ids: [ID!]!, $window: TimeWindowInput!) {
  availabilityChanged(resourceIds: $ids, window: $window) {
    resourceId reason changed { start end }
    availability { resourceId version window { start end } busy { start end } free { start end } }
  }
}"""


@dataclass(frozen=True, slots=True)
class Received:
    id: str
    #: ``next``, ``error`` or ``complete`` (graphql-ws's ``data`` is reported as ``next``).
    type: str
    payload: Any
    #: ``time.perf_counter()`` when the frame was read.
    at: float


class ConnectionRefused(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"connection refused: {code} {reason}")
        self.code = code
        self.reason = reason


class GraphQLWebSocket:
    def __init__(self, ws: ClientConnection, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self._ids = itertools.count(1)

    @classmethod
    @asynccontextmanager
    async def connect(cls, url: str, key: str | None, *, protocol: str = TRANSPORT_WS,
                      origin: str | None = None, payload: Mapping[str, object] | None = None,
                      compression: bool = True) -> AsyncIterator[GraphQLWebSocket]:
        """Open, send connection_init (``{"authorization": "Bearer <key>"}``), await the ack."""
        ws_url = url.replace("http://", "ws://", 1).replace("https://", "wss://", 1).rstrip("/")
        async with connect(f"{ws_url}/graphql", subprotocols=[Subprotocol(protocol)],
                           origin=Origin(origin) if origin else None, open_timeout=10,
                           max_queue=None, compression="deflate" if compression else None) as ws:
            client = cls(ws, protocol)
            init = payload if payload is not None else (
                {"authorization": f"Bearer {key}"} if key is not None else {})
            await client._send({"type": "connection_init", "payload": dict(init)})
            await client._await_ack()
            yield client

    async def subscribe(self, query: str = SUBSCRIBE_AVAILABILITY, **variables: object) -> str:
        return await self.start({"query": query, "variables": variables})

    async def start(self, payload: Mapping[str, object]) -> str:
        """Start an operation of any payload (e.g. a persisted query's ``extensions``); its id."""
        op_id = str(next(self._ids))
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self._send({"id": op_id, "type": kind, "payload": dict(payload)})
        return op_id

    async def complete(self, op_id: str) -> None:
        await self._send({"id": op_id, "type": "complete" if self.protocol == TRANSPORT_WS else "stop"})

    async def receive(self, wait_s: float = 10.0) -> Received:
        """The next subscription message (keep-alives are answered or skipped); TimeoutError after wait_s."""
        async with asyncio.timeout(wait_s):
            while True:
                message = orjson.loads(await self.ws.recv())
                at = time.perf_counter()
                kind = message.get("type")
                if kind == "ping":
                    await self._send({"type": "pong"})
                elif kind in ("next", "data", "error", "complete"):
                    return Received(message.get("id", ""), "next" if kind == "data" else kind,
                                    message.get("payload"), at)

    async def _await_ack(self) -> None:
        while True:
            try:
                message = orjson.loads(await asyncio.wait_for(self.ws.recv(), 10))
            except (ConnectionClosed, TimeoutError) as err:
                raise ConnectionRefused(self.ws.close_code, self.ws.close_reason or repr(err)) from err
            if message.get("type") == "connection_ack":
                return
            if message.get("type") == "connection_error":
                continue  # graphql-ws: the close frame follows

    async def _send(self, message: Mapping[str, object]) -> None:
        await self.ws.send(orjson.dumps(message).decode())
