"""Strawberry's view, serving WebSockets (and the GraphiQL page) behind the gateway's gate.

HTTP requests carry the key in ``Authorization: Bearer <key>``; WebSocket connections in the
``connection_init`` payload, and every WebSocket operation passes the same admission as HTTP
(see :mod:`booking_gateway.web.websocket`). Browser origins are
checked by Strawberry against ``allowed_origins`` before a WebSocket is accepted (a refused
handshake is answered 403); CORS on HTTP is Starlette's middleware, wired in ``app.py``.
An authenticated WebSocket holds a seat in its tenant's quota (:mod:`booking_gateway.live.quotas`)
until it closes.
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

import orjson
import strawberry
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from booking_gateway.domain.outcome import Deps
from booking_gateway.fastpath.graphql_core import core_schema, execute_kwargs, executor_kwargs
from booking_gateway.infra.auth import KeyAuthenticator
from booking_gateway.infra.deadlines import Deadlines
from booking_gateway.live.hub import LiveHub
from booking_gateway.resolvers.context import Context
from booking_gateway.resolvers.subscriptions import LiveContext
from booking_gateway.web import graphiql
from booking_gateway.web.admission import Admission
from booking_gateway.web.http_graphql import new_request_id
from booking_gateway.web.websocket import Gate, KeyWatch, LegacyWSHandler, TransportWSHandler, bearer_token

#: The tenant of a WebSocket context until its connection_init is authenticated (no tenant has it).
UNAUTHENTICATED = UUID(int=0)
#: Where a WebSocket's context waits in the ASGI scope, for the socket's teardown.
_CONTEXT = "booking_gateway.live_context"


class GatewayGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view, plus authentication by ``Authorization: Bearer <api key>``."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, *args: Any, deps: Deps, authenticator: KeyAuthenticator, admission: Admission,
                 key_check_interval_s: float, request_timeout_s: float, live: LiveHub | None = None,
                 fast_path: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deps = deps
        self.authenticator = authenticator
        self.live = live
        schema = cast(strawberry.Schema, self.schema)
        # without the fast path, WebSocket operations run graphql-core's own execution context
        self.gate = Gate(core_schema(schema), admission, authenticator.tenant_for,
                         KeyWatch(authenticator.tenant_for, key_check_interval_s), Deadlines(request_timeout_s),
                         executor_kwargs(schema) if fast_path else {}, execute_kwargs(schema) if fast_path else {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._websocket(scope, receive, send)
            return
        request = Request(scope, receive)
        response: Response
        if self.graphql_ide and _wants_ide(request):
            response = graphiql.page()  # served from the package (web/graphiql.py); the IDE needs no key
        else:
            try:
                response = await self.run(request)
            except HTTPException as err:
                response = error_response(err.status_code, err.reason)
        await response(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's WebSocket handling, plus the tenant's connection quota: the seat taken at
        connection_init (see :mod:`booking_gateway.web.websocket`) is given back however the socket ends.
        """
        try:
            await super().__call__(scope, receive, send)
        finally:
            context = scope.pop(_CONTEXT, None)
            if isinstance(context, LiveContext) and context.seat is not None:
                context.seat.release()

    def encode_json(self, data: object) -> str:
        """Every live event of every subscriber is encoded here: orjson, several times faster."""
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        request_id = request.headers.get("x-request-id") or new_request_id()
        if isinstance(request, WebSocket):
            context = request.scope[_CONTEXT] = LiveContext(
                tenant_id=UNAUTHENTICATED, deps=self.deps, request_id=request_id, request=request, live=self.live)
            return context
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            raise HTTPException(401, "missing API key: send the header 'Authorization: Bearer <api key>'")
        tenant_id = await self.authenticator.tenant_for(token)
        if tenant_id is None:
            raise HTTPException(401, "invalid or revoked API key")
        return Context(tenant_id=tenant_id, deps=self.deps, request_id=request_id, request=request)


_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
          413: "REQUEST_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 429: "RATE_LIMITED"}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A refusal before execution, in the GraphQL response shape clients already parse."""
    body = {"errors": [{"message": message, "extensions": {"code": _CODES.get(status, "ERROR")}}]}
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="booking-gateway"')
    return JSONResponse(body, status_code=status, headers=headers)


def _wants_ide(request: Request) -> bool:
    return (request.method == "GET" and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", ""))
