"""The two WebSocket protocols, as Strawberry serves them, plus our authentication and keep-alive.

Both protocols authenticate in ``connection_init`` (payload ``{"authorization": "Bearer <key>"}``)
and refuse a missing, unknown or revoked key the same way: the socket is closed with code
**4403** and a reason saying what is wrong (graphql-ws first sends ``connection_error``).
The server sends keep-alive messages every ``keep_alive_interval``: ``ping`` on
graphql-transport-ws (clients answer ``pong``), ``ka`` on the legacy graphql-ws.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Protocol, cast

from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws import types as transport
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws import types as legacy
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from booking_gateway.resolvers.context import Context

#: Close code of a refused connection_init (graphql-transport-ws: "4403: Forbidden").
CLOSE_FORBIDDEN = 4403


class Authenticating(Protocol):
    keep_alive: bool
    keep_alive_interval: float | None

    async def authenticate_connection(self, context: Context, payload: object) -> str | None:
        """Set the context's tenant from the payload; else return why the connection is refused."""
        ...


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws."""

    _pinger: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: transport.ConnectionInitMessage) -> None:
        view = cast(Authenticating, self.view)
        if not self.connection_init_received and isinstance(message.get("payload") or {}, dict):
            refusal = await view.authenticate_connection(self.context, message.get("payload"))
            if refusal is not None:
                await self.websocket.close(code=CLOSE_FORBIDDEN, reason=refusal)
                return
        await super().handle_connection_init(message)
        interval = view.keep_alive_interval if view.keep_alive else None
        if self.connection_acknowledged and interval and self._pinger is None:
            self._pinger = asyncio.create_task(self._ping(interval))

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with suppress(asyncio.CancelledError):
                await self._pinger
        await super().shutdown()

    async def _ping(self, interval: float) -> None:
        with suppress(WebSocketDisconnected, RuntimeError):  # RuntimeError: closed meanwhile
            while True:
                await asyncio.sleep(interval)
                await self.send_message({"type": "ping"})


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws (subscriptions-transport-ws), the legacy protocol."""

    async def handle_connection_init(self, message: legacy.ConnectionInitMessage) -> None:
        refusal = await cast(Authenticating, self.view).authenticate_connection(
            self.context, message.get("payload"))
        if refusal is not None:
            await self.send_message({"type": "connection_error", "payload": {"message": refusal}})
            await self.websocket.close(code=CLOSE_FORBIDDEN, reason=refusal)
            return
        await super().handle_connection_init(message)
