"""The two WebSocket protocols, as Strawberry serves them, behind the same gate as HTTP.

Both protocols authenticate in ``connection_init`` (payload ``{"authorization": "Bearer <key>"}``)
and refuse a missing, unknown or revoked key the same way: the socket is closed with code
**4403** and a reason saying what is wrong (graphql-ws first sends ``connection_error``). A key
revoked while its sockets are open closes them with 4403 too (:class:`KeyWatch`).

Every operation (query, mutation or subscription; graphql-transport-ws ``subscribe`` or
graphql-ws ``start``) is charged to the tenant's rate budget and admitted by the process's one
:class:`~booking_gateway.web.admission.Admission` before anything is parsed or run, exactly as
HTTP requests are; a refusal is the protocol's ``error`` message with the errors HTTP would
send. Operations then run through graphql-core, as on HTTP, and unexpected errors are masked by
the same :func:`~booking_gateway.web.errors.masked`, under a request id of their own.

Malformed messages close the socket with **4400** and no traceback; a socket that sends no
``connection_init`` within the timeout is closed with **4408** (both protocols). The server
sends keep-alive messages every ``keep_alive_interval``: ``ping`` on graphql-transport-ws
(clients answer ``pong``), ``ka`` on the legacy graphql-ws.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing, suppress
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any, Protocol, cast
from uuid import UUID

from graphql import ExecutionResult, GraphQLError, GraphQLSchema, OperationType, execute, subscribe
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws import types as transport
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws import types as legacy
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from booking_gateway.infra.deadlines import Deadlines
from booking_gateway.live.quotas import QuotaExceeded
from booking_gateway.resolvers.context import Context
from booking_gateway.resolvers.subscriptions import LiveContext
from booking_gateway.web.admission import Admission, Admitted, Refusal, Request, operation_request
from booking_gateway.web.errors import masked
from booking_gateway.web.http_graphql import new_request_id

log = logging.getLogger(__name__)

#: Close codes: a malformed message, a refused or revoked key, no connection_init in time.
CLOSE_BAD_REQUEST = 4400
CLOSE_FORBIDDEN = 4403
CLOSE_INIT_TIMEOUT = 4408
CLOSE_TOO_MANY_INITS = 4429
#: A connection_init past the tenant's BOOKING_WS_MAX_CONNECTIONS_PER_TENANT ("Too Many Requests").
CLOSE_TOO_MANY = 4429

REVOKED = "API key revoked"

#: Sending to a socket that is closing raises one of these; the operation just ends.
_GONE = (WebSocketDisconnected, RuntimeError, OSError)


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def message_problem(message: object, types: Mapping[str, tuple[str, ...]]) -> str | None:
    """What is wrong with a message's envelope (``types``: known type -> fields it needs), or None."""
    if not isinstance(message, dict):
        return "a message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in types:
        return f"unknown message type {str(kind)[:40]!r}"
    for name in types[kind]:
        if name == "id" and (not isinstance(message.get("id"), str) or not message["id"]):
            return f"a {kind} message needs a string 'id'"
        if name == "payload" and not isinstance(message.get("payload"), dict):
            return f"a {kind} message needs an object 'payload'"
    return None


class Revocable(Protocol):
    async def revoke(self) -> None: ...


class KeyWatch:
    """Closes the open sockets of a key once it is revoked.

    One task per process looks up each distinct key of the open sockets every ``interval_s``
    (a quarter of the key cache's TTL): a cache hit costs a dict lookup, a miss one query per
    key per TTL, shared by every socket of that key and by its HTTP requests. The task runs only
    while sockets are open.
    """

    def __init__(self, tenant_for: Callable[[str], Awaitable[UUID | None]], interval_s: float) -> None:
        self._tenant_for = tenant_for
        self.interval_s = interval_s
        self._sockets: dict[str, set[Revocable]] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, key: str, socket: Revocable) -> None:
        self._sockets.setdefault(key, set()).add(socket)
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    def forget(self, key: str, socket: Revocable) -> None:
        sockets = self._sockets.get(key)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._sockets[key]

    async def close(self) -> None:
        """Stop watching (at shutdown, once the sockets are closed)."""
        task, self._task = self._task, None
        self._sockets.clear()
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            if not self._sockets:
                self._task = None
                return
            keys = list(self._sockets)
            for start in range(0, len(keys), 32):
                chunk = keys[start:start + 32]
                tenants = await asyncio.gather(*(self._tenant_for(k) for k in chunk), return_exceptions=True)
                for key, tenant in zip(chunk, tenants, strict=True):
                    if tenant is None:  # revoked (a failed lookup keeps the socket: HTTP would retry)
                        for socket in list(self._sockets.pop(key, ())):
                            await socket.revoke()


@dataclass
class Gate:
    """What both protocols share: authentication, admission, execution and error masking."""

    schema: GraphQLSchema
    admission: Admission
    tenant_for: Callable[[str], Awaitable[UUID | None]]
    keys: KeyWatch
    #: The time limit of a query or mutation (BOOKING_REQUEST_TIMEOUT_MS, as on HTTP)
    deadlines: Deadlines
    #: graphql-core executor arguments (Strawberry's execution context class: the shared-event fast path)
    executor: dict[str, Any] = field(default_factory=dict)
    #: ... and those of ``execute`` only (the fast path's awaitable check)
    execute_extra: dict[str, Any] = field(default_factory=dict)

    async def authenticate(self, payload: object) -> tuple[str, UUID] | str:
        """The connection_init payload's key and its tenant, or why the connection is refused."""
        params = payload if isinstance(payload, dict) else {}
        header = params.get("authorization", params.get("Authorization"))
        token = bearer_token(header if isinstance(header, str) else None)
        if token is None:
            return 'missing API key: send connection_init with {"authorization": "Bearer <api key>"}'
        tenant_id = await self.tenant_for(token)
        if tenant_id is None:
            return "invalid or revoked API key"
        return token, tenant_id

    def payload(self, result: ExecutionResult, request_id: str) -> dict[str, Any]:
        """A result as this gateway's clients see it (suggestions only where introspection is on)."""
        return payload(result, request_id, suggestions=self.admission.suggestions)

    async def admit(self, tenant_id: UUID, request: Request) -> Admitted | Refusal:
        """The same admission as HTTP: the rate budget first, then the document and its limits."""
        refusal = await self.admission.charge(tenant_id)
        if refusal is not None:
            return refusal
        return await self.admission.request(tenant_id, request)

    async def results(self, context: Context, admitted: Admitted, request: Request,
                      request_id: str) -> AsyncGenerator[tuple[bool, ExecutionResult], None]:
        """(initial error?, result) of the operation: one for a query or mutation (under the request
        time limit), a stream for a subscription. ``True`` marks a subscription that failed before
        its stream began."""
        kwargs: dict[str, Any] = {"context_value": context, "variable_values": request.variables,
                                  "operation_name": request.operation_name, **self.executor}
        if admitted.kind is not OperationType.SUBSCRIPTION:
            try:
                with self.deadlines.limit():
                    result = execute(self.schema, admitted.document, **{**kwargs, **self.execute_extra})
                    done = await result if isawaitable(result) else result
            except TimeoutError:
                log.warning("request %s timed out after %.1f s", request_id, self.deadlines.seconds)
                done = ExecutionResult(None, [GraphQLError(
                    f"the request took longer than {self.deadlines.seconds:g} s (limit BOOKING_REQUEST_TIMEOUT_MS); "
                    "a mutation may or may not have been applied: retry it with the same clientMutationId",
                    extensions={"code": "TIMEOUT", "requestId": request_id})])
            yield False, done
            return
        source = subscribe(self.schema, admitted.document, **kwargs)
        stream = await source if isawaitable(source) else source
        if isinstance(stream, ExecutionResult):
            yield True, stream
            return
        try:
            async with aclosing(cast(AsyncGenerator[ExecutionResult, None], stream)):
                async for result in stream:
                    yield False, result
        except Exception as err:
            error = err if isinstance(err, GraphQLError) else GraphQLError(str(err), original_error=err)
            yield False, ExecutionResult(None, [error])


def payload(result: ExecutionResult, request_id: str, *, suggestions: bool) -> dict[str, Any]:
    """A result as clients see it: errors masked as on HTTP (without suggestions where introspection is off)."""
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [masked(e, request_id, suggestions=suggestions) for e in result.errors]
    return body


class HasGate(Protocol):
    gate: Gate
    keep_alive: bool
    keep_alive_interval: float | None


class _Guarded:
    """The key of a connection, checked before each operation and watched while it is open."""

    view: Any
    context: Context
    _key: str | None = None

    @property
    def gate(self) -> Gate:
        return cast(HasGate, self.view).gate

    async def _authenticate(self, payload: object) -> tuple[int, str] | None:
        """Authenticate connection_init and take the socket's seat in its tenant's quota; else the
        close code and reason: 4403 for a bad key, 4429 past BOOKING_WS_MAX_CONNECTIONS_PER_TENANT."""
        found = await self.gate.authenticate(payload)
        if isinstance(found, str):
            return CLOSE_FORBIDDEN, found
        context = self.context
        if isinstance(context, LiveContext) and context.live is not None:
            try:
                context.seat = context.live.quotas.connect(found[1])
            except QuotaExceeded as err:
                return CLOSE_TOO_MANY, err.message
        self._key, self.context.tenant_id = found
        self.gate.keys.watch(found[0], cast(Revocable, self))
        return None

    async def _key_still_valid(self) -> bool:
        if self._key is None:
            return False
        try:
            if await self.gate.tenant_for(self._key) == self.context.tenant_id:
                return True
        except Exception:
            log.warning("could not re-check a WebSocket's API key", exc_info=True)
            return True
        await cast(Revocable, self).revoke()
        return False

    def _unwatch(self) -> None:
        if self._key is not None:
            self.gate.keys.forget(self._key, cast(Revocable, self))


TRANSPORT_MESSAGES = {"connection_init": (), "ping": (), "pong": (), "subscribe": ("id", "payload"),
                      "complete": ("id",)}


class TransportWSHandler(_Guarded, BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws."""

    _pinger: asyncio.Task[None] | None = None

    async def handle_message(self, message: transport.Message) -> None:
        problem = message_problem(message, TRANSPORT_MESSAGES)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_invalid_message(self, error_message: str) -> None:
        await self.websocket.close(code=CLOSE_BAD_REQUEST, reason=error_message[:120])

    async def handle_connection_init(self, message: transport.ConnectionInitMessage) -> None:
        view = cast(HasGate, self.view)
        if not self.connection_init_received and isinstance(message.get("payload") or {}, dict):
            refusal = await self._authenticate(message.get("payload"))
            if refusal is not None:
                await self.websocket.close(code=refusal[0], reason=refusal[1])
                return
        await super().handle_connection_init(message)
        interval = view.keep_alive_interval if view.keep_alive else None
        if self.connection_acknowledged and interval and self._pinger is None:
            self._pinger = asyncio.create_task(self._ping(interval))

    async def handle_subscribe(self, message: transport.SubscribeMessage) -> None:
        """Strawberry's checks (ack, duplicate id, operations per connection), then the gate."""
        op_id = message["id"]
        if not self.connection_acknowledged or op_id in self.operations or (
                self.max_subscriptions_per_connection is not None
                and len(self.operations) >= self.max_subscriptions_per_connection):
            await super().handle_subscribe(message)  # closes or refuses, as Strawberry does
            return
        request = operation_request(message["payload"], "the payload")
        if isinstance(request, str):
            await self.handle_invalid_message(request)
            return
        if not await self._key_still_valid():
            return
        admitted = await self.gate.admit(self.context.tenant_id, request)
        if isinstance(admitted, Refusal):
            await self.send_message({"id": op_id, "type": "error", "payload": cast(Any, admitted.errors)})
            return
        operation: Operation[Context, None] = Operation(self, op_id, request.query, request.variables,
                                                        request.operation_name)
        operation.task = asyncio.create_task(self._run(operation, admitted, request))
        operation.task.add_done_callback(self._task_done)
        self.operations[op_id] = operation

    async def _run(self, operation: Operation[Context, None], admitted: Admitted, request: Request) -> None:
        request_id = new_request_id()
        try:
            async with aclosing(self.gate.results(self.context, admitted, request, request_id)) as results:
                async for initial, result in results:
                    if initial:
                        await operation.send_operation_message({
                            "id": operation.id, "type": "error",
                            "payload": cast(Any, self.gate.payload(result, request_id).get("errors", []))})
                        return
                    body = self.gate.payload(result, request_id)
                    await operation.send_operation_message({"id": operation.id, "type": "next",
                                                            "payload": cast(Any, body)})
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _GONE:
            self.operations.pop(operation.id, None)
        except Exception:
            log.exception("request %s: the WebSocket operation failed", request_id)
            self.operations.pop(operation.id, None)

    async def revoke(self) -> None:
        """The key was revoked: stop every operation, then close the socket."""
        self._unwatch()
        for op_id in list(self.operations):
            await self.cleanup_operation(op_id)
        with suppress(*_GONE):
            await self.websocket.close(code=CLOSE_FORBIDDEN, reason=REVOKED)

    async def shutdown(self) -> None:
        self._unwatch()
        if self._pinger is not None:
            self._pinger.cancel()
            with suppress(asyncio.CancelledError):
                await self._pinger
        await super().shutdown()

    async def _ping(self, interval: float) -> None:
        with suppress(*_GONE):  # RuntimeError: closed meanwhile
            while True:
                await asyncio.sleep(interval)
                await self.send_message({"type": "ping"})


LEGACY_MESSAGES = {"connection_init": (), "connection_terminate": (), "start": ("id", "payload"), "stop": ("id",)}


class LegacyWSHandler(_Guarded, BaseGraphQLWSHandler[Context, None]):
    """graphql-ws (subscriptions-transport-ws), the legacy protocol."""

    _init_timer: asyncio.Task[None] | None = None

    async def handle(self) -> None:
        """Strawberry's loop, plus the connection_init timeout, and malformed frames refused (4400)."""
        self._init_timer = asyncio.create_task(
            self._close_without_init(self.view.connection_init_wait_timeout.total_seconds()))
        try:
            try:
                async for message in self.websocket.iter_json():
                    await self.handle_message(cast(legacy.OperationMessage, message))
            except NonTextMessageReceived:
                await self.refuse("WebSocket message type must be text")
            except NonJsonMessageReceived:
                await self.refuse("WebSocket message must be valid JSON")
        except WebSocketDisconnected:
            pass
        finally:
            self._unwatch()
            for task in (self._init_timer, self.keep_alive_task):
                if task is not None:
                    task.cancel()
                    with suppress(BaseException):
                        await task
            await self.cleanup()

    async def _close_without_init(self, wait_s: float) -> None:
        await asyncio.sleep(wait_s)
        if not self.connection_acknowledged:
            with suppress(*_GONE):
                await self.websocket.close(code=CLOSE_INIT_TIMEOUT, reason="Connection initialisation timeout")

    async def refuse(self, reason: str) -> None:
        """A malformed message: ``connection_error`` saying why, then close with 4400."""
        with suppress(*_GONE):
            await self.send_message({"type": "connection_error", "payload": {"message": reason}})
            await self.websocket.close(code=CLOSE_BAD_REQUEST, reason=reason[:120])

    async def handle_message(self, message: legacy.OperationMessage) -> None:
        problem = message_problem(message, LEGACY_MESSAGES)
        if problem is not None:
            await self.refuse(problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: legacy.ConnectionInitMessage) -> None:
        if self.connection_acknowledged:
            await self.websocket.close(code=CLOSE_TOO_MANY_INITS, reason="Too many initialisation requests")
            return
        refusal = await self._authenticate(message.get("payload"))
        if refusal is not None:
            await self.send_message({"type": "connection_error", "payload": {"message": refusal[1]}})
            await self.websocket.close(code=refusal[0], reason=refusal[1])
            return
        await super().handle_connection_init(message)

    async def handle_start(self, message: legacy.StartMessage) -> None:
        """Strawberry's checks (ack, a reused id, operations per connection), then the gate."""
        op_id = message["id"]
        if op_id in self.tasks:
            await self.cleanup_operation(op_id)
        if not self.connection_acknowledged or (self.max_subscriptions_per_connection is not None
                                                and len(self.tasks) >= self.max_subscriptions_per_connection):
            await super().handle_start(message)  # closes or refuses, as Strawberry does
            return
        request = operation_request(message["payload"], "the payload")
        if isinstance(request, str):
            await self.refuse(request)
            return
        if not await self._key_still_valid():
            return
        admitted = await self.gate.admit(self.context.tenant_id, request)
        if isinstance(admitted, Refusal):
            # graphql-ws carries one error per error message, as Strawberry sends validation errors
            await self.send_message({"type": "error", "id": op_id, "payload": cast(Any, admitted.errors[0])})
            return
        self.tasks[op_id] = asyncio.create_task(self._run(op_id, admitted, request))

    async def _run(self, op_id: str, admitted: Admitted, request: Request) -> None:
        request_id = new_request_id()
        try:
            async with aclosing(self.gate.results(self.context, admitted, request, request_id)) as results:
                async for initial, result in results:
                    body = self.gate.payload(result, request_id)
                    if initial:
                        await self.send_message({"type": "error", "id": op_id,
                                                 "payload": cast(Any, body.get("errors", [{}])[0])})
                        return
                    await self.send_message({"type": "data", "id": op_id, "payload": cast(Any, body)})
            await self.send_message({"type": "complete", "id": op_id})
        except asyncio.CancelledError:  # stopped by the client (or the key revoked): say so, if still open
            with suppress(*_GONE):
                await self.send_message({"type": "complete", "id": op_id})
        except _GONE:
            pass
        except Exception:
            log.exception("request %s: the WebSocket operation failed", request_id)
        finally:
            self.tasks.pop(op_id, None)

    async def revoke(self) -> None:
        """The key was revoked: stop every operation, then close the socket."""
        self._unwatch()
        for op_id in list(self.tasks):
            task = self.tasks.pop(op_id)
            task.cancel()
        with suppress(*_GONE):
            await self.websocket.close(code=CLOSE_FORBIDDEN, reason=REVOKED)
