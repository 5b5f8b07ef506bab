"""POST (and GET) /graphql: the request path, kept lean because every request pays for it.

In order: method (GET for queries, POST), Accept (406), content type (415), body size (413) and
time (408), API key (401), JSON or the query string (400), rate limit (429: one token per
operation, so a batch is charged before any of it runs), batching (off unless enabled), then a
cached, validated document and one execution under a time limit, which completion also checks
(a resolver's huge list is completed synchronously, out of reach of the event loop's timers),
and a bound on the answer's size. Expected failures are answered as GraphQL errors; unexpected
ones are masked, wherever they happen (see :mod:`booking_gateway.web.errors`). The transport's
own rules (GET, media types, status codes, cache headers) live in small modules of their own:
:mod:`~booking_gateway.web.get_requests`, :mod:`~booking_gateway.web.negotiation`,
:mod:`~booking_gateway.web.http_answers`. WebSocket subscriptions and the GraphiQL page stay
with Strawberry's view (``fallback``). The time a client may take to send its headers is the
server's to bound (:mod:`booking_gateway.web.header_timeout`).

It executes through graphql-core directly rather than ``Schema.execute``: the schema,
types and resolvers are Strawberry's, but the per-request extension machinery is not
needed once documents are prepared once (the fast path, :mod:`booking_gateway.fastpath`).
With ``BOOKING_FAST_PATH=false`` the same transport checks run (``_answer``, ``_one``) and each
operation is then executed by Strawberry's own view (:mod:`booking_gateway.web.stock_http`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import orjson
import strawberry
from graphql import OperationType
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking_gateway.domain.outcome import Deps
from booking_gateway.fastpath.graphql_core import FastExecutor
from booking_gateway.fastpath.leaf_objects import CompletionBudget
from booking_gateway.infra.deadlines import Deadlines
from booking_gateway.infra.unique_ids import UniqueIds
from booking_gateway.resolvers.context import Context
from booking_gateway.web.admission import Admission, Admitted, Refusal, Request, operation_request
from booking_gateway.web.errors import error_body, internal_error_body, masked
from booking_gateway.web.get_requests import get_payload
from booking_gateway.web.http_answers import (
    ALLOW_BOTH,
    get_headers,
    not_executed,
    refused_over_get,
    request_error_status,
)
from booking_gateway.web.negotiation import ACCEPTABLE, MediaType, negotiate
from booking_gateway.web.stock_http import StockOperations

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    max_body_bytes: int = 1_048_576
    max_batch: int = 0
    request_timeout_s: float = 15.0
    body_timeout_s: float = 30.0
    max_response_bytes: int = 8 * 1_048_576


class GraphQLOverHTTP:
    def __init__(self, schema: strawberry.Schema, deps: Deps,
                 tenant_for: Callable[[str], Awaitable[UUID | None]], *,
                 admission: Admission, edge: EdgeLimits, fallback: ASGIApp, graphiql: bool,
                 stock: StockOperations | None = None) -> None:
        #: BOOKING_FAST_PATH=false: operations run by Strawberry's own view, after the same checks
        self._stock = stock
        self._executor = FastExecutor(schema) if stock is None else None
        self._deps = deps
        self._tenant_for = tenant_for
        self._admission = admission
        self._edge = edge
        self._deadlines = Deadlines(edge.request_timeout_s)
        self._body_deadlines = Deadlines(edge.body_timeout_s)
        self._fallback = fallback
        self._graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._fallback(scope, receive, send)  # WebSocket subscriptions
            return
        headers = dict(scope["headers"])
        request_id = _request_id(headers.get(b"x-request-id"))
        if self._graphiql and _wants_page(scope, headers):
            await self._page(scope, receive, send, request_id)
            return
        media = negotiate(headers.get(b"accept"))
        extra: list[tuple[bytes, bytes]]
        try:
            if media is None:
                status, body, extra = 406, error_body(406, f"cannot answer in any type the Accept header allows: "
                                                           f"ask for {ACCEPTABLE}"), []
            else:
                status, body, extra = await self._answer(scope, receive, headers, request_id, media)
        except Exception as err:  # whatever broke before, during or after execution
            status, body, extra = 500, internal_error_body(request_id, err), []
        if scope["method"] == "GET":
            extra = get_headers(status, extra)
        await _respond(send, status, body, request_id, extra, media or MediaType.JSON)

    async def _page(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        """The GraphiQL page; an exception before it started is answered as any other."""
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self._fallback(scope, receive, tracking)
        except Exception as err:
            if started:
                raise
            await _respond(send, 500, internal_error_body(request_id, err), request_id, [], MediaType.JSON)

    async def _answer(self, scope: Scope, receive: Receive, headers: dict[bytes, bytes], request_id: str,
                      media: MediaType) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """The transport checks, in both modes (BOOKING_FAST_PATH); each operation then runs in :meth:`_one`."""
        method = scope["method"]
        if method not in ("GET", "POST"):
            return 405, error_body(405, "use POST for GraphQL requests, or GET for queries"), [ALLOW_BOTH]
        raw = b""
        if method == "POST":
            refused = await self._read(receive, headers)
            if isinstance(refused, tuple):
                return refused
            raw = refused
        token = _bearer(headers.get(b"authorization"))
        if token is None:
            return 401, error_body(401, "missing API key: send the header 'Authorization: Bearer <api key>'"), [
                (b"www-authenticate", b'Bearer realm="booking-gateway"')]
        tenant_id = await self._tenant_for(token)
        if tenant_id is None:
            return 401, error_body(401, "invalid or revoked API key"), [
                (b"www-authenticate", b'Bearer realm="booking-gateway"')]
        invalid: str | None = None
        payload: Any = None
        if method == "GET":
            payload = get_payload(scope.get("query_string", b""))
            if isinstance(payload, str):
                payload, invalid = None, payload
        else:
            try:
                payload = orjson.loads(raw)
            except orjson.JSONDecodeError as err:
                invalid = f"the body is not valid JSON: {err}"
        # one token per operation; a request that runs nothing (bad JSON, a refused batch) costs one
        batch = isinstance(payload, list) and 0 < len(payload) <= self._edge.max_batch
        refusal = await self._admission.charge(tenant_id, len(payload) if batch else 1)
        if refusal is not None:
            extra = [] if refusal.retry_after_s is None else [
                (b"retry-after", str(max(1, -int(-refusal.retry_after_s // 1))).encode())]
            return refusal.status, orjson.dumps({"errors": refusal.errors}), extra
        if invalid is not None:
            return 400, error_body(400, invalid), []
        context = Context(tenant_id=tenant_id, deps=self._deps, request_id=request_id)
        if isinstance(payload, list):
            return await self._batch(scope, payload, context, media)
        status, result = await self._one(scope, payload, context, self._edge.max_response_bytes, media,
                                         over_get=method == "GET")
        return status, result, []

    async def _read(self, receive: Receive, headers: dict[bytes, bytes]) -> bytes | tuple[
            int, bytes, list[tuple[bytes, bytes]]]:
        """The body of a POST, or the refusal of its content type, size or slowness."""
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type != b"application/json":
            return 415, error_body(415, "send the request as Content-Type: application/json"), []
        try:
            with self._body_deadlines.limit():
                raw = await _read_body(receive, headers, self._edge.max_body_bytes)
        except TimeoutError:
            return 408, error_body(408, f"the request body did not arrive within {self._edge.body_timeout_s:g} s "
                                        "(limit BOOKING_HTTP_BODY_TIMEOUT_MS)"), [(b"connection", b"close")]
        if raw is None:
            return 413, error_body(413, f"the request body is larger than {self._edge.max_body_bytes} "
                                        "bytes (limit BOOKING_MAX_BODY_BYTES)"), []
        return raw

    async def _batch(self, scope: Scope, payload: list[Any], context: Context,
                     media: MediaType) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        if self._edge.max_batch == 0:
            return 400, error_body(400, "batched operations are disabled (BOOKING_MAX_BATCH)"), []
        if not payload or len(payload) > self._edge.max_batch:
            return 400, error_body(400, f"a batch holds 1 to {self._edge.max_batch} operations "
                                        f"(limit BOOKING_MAX_BATCH); this one has {len(payload)}"), []
        # the limit is on the whole answer: each operation gets what the ones before left
        room = self._edge.max_response_bytes - 2 - (len(payload) - 1)
        results: list[bytes] = []
        for item in payload:
            if room < 0:  # an earlier operation's answer took it all
                results.append(self._too_large(context.request_id, executed=False))
                continue
            _, result = await self._one(scope, item, context, room, media)
            room -= len(result)
            results.append(result)
        return 200, b"[" + b",".join(results) + b"]", []

    async def _one(self, scope: Scope, payload: object, context: Context, max_bytes: int, media: MediaType, *,
                   over_get: bool = False) -> tuple[int, bytes]:
        """One operation's status and JSON answer, at most ``max_bytes`` long (or an error saying so);
        the status of a request error depends on the answer's ``media`` type."""
        request = operation_request(payload, "the query string" if over_get else "the body")
        if isinstance(request, str):
            return 400, error_body(400, request)
        if self._executor is None:
            return await self._one_stock(scope, request, context, max_bytes, media, over_get=over_get)
        variables, operation_name = request.variables, request.operation_name
        admitted = await self._admission.request(context.tenant_id, request)
        if isinstance(admitted, Refusal):
            status = request_error_status(media) if admitted.status == 200 else admitted.status
            return status, orjson.dumps({"errors": admitted.errors})
        refused = refused_over_get(admitted.kind) if over_get else None
        if refused is not None:
            return 405, refused
        if admitted.kind is OperationType.SUBSCRIPTION:
            return 400, error_body(400, "subscriptions are served over WebSocket at /graphql "
                                        "(graphql-transport-ws or graphql-ws)")
        budget = CompletionBudget(time.monotonic() + self._edge.request_timeout_s, max_bytes)
        try:
            with self._deadlines.limit():
                result = await self._executor.execute(admitted.document, variables, operation_name, context, budget)
        except TimeoutError:
            budget.stopped = "timeout"
        if budget.stopped == "timeout":
            return self._timed_out(context.request_id)
        if budget.stopped is None:
            status = 200
            body: dict[str, Any] = {"data": result.data}
            if not_executed(result):  # a request error: the spec wants no data entry
                status, body = request_error_status(media), {}
            if result.errors:
                body["errors"] = [masked(e, context.request_id, suggestions=self._admission.suggestions)
                                  for e in result.errors]
            encoded = orjson.dumps(body)
            if len(encoded) <= max_bytes:
                return status, encoded
        log.warning("request %s: the answer is larger than %d bytes", context.request_id, max_bytes)
        return 200, self._too_large(context.request_id, executed=True)

    async def _one_stock(self, scope: Scope, request: Request, context: Context, max_bytes: int,
                         media: MediaType, *, over_get: bool) -> tuple[int, bytes]:
        """The operation run by Strawberry's view (BOOKING_FAST_PATH=false), under the same limits;
        a persisted document is looked up first, and the status follows the media type as on the
        fast path."""
        assert self._stock is not None
        text = await self._admission.text(context.tenant_id, request)
        if isinstance(text, Refusal):
            return text.status, orjson.dumps({"errors": text.errors})
        admitted = self._admission.document(text, request.variables, request.operation_name)
        if isinstance(admitted, Admitted):
            refused = refused_over_get(admitted.kind) if over_get else None
            if refused is not None:
                return 405, refused
            await self._admission.remember(context.tenant_id, request)
        answer = await self._stock.one(scope, replace(request, query=text, sha256=None), context)
        if answer is None:
            return self._timed_out(context.request_id)
        status, body = answer
        if status == 200:
            status, body = _request_error(body, media)
        if len(body) > max_bytes:
            log.warning("request %s: the answer is larger than %d bytes", context.request_id, max_bytes)
            return 200, self._too_large(context.request_id, executed=True)
        return status, body

    def _timed_out(self, request_id: str) -> tuple[int, bytes]:
        log.warning("request %s timed out after %.1f s", request_id, self._edge.request_timeout_s)
        return 504, error_body(
            504, f"the request took longer than {self._edge.request_timeout_s:g} s "
                 "(limit BOOKING_REQUEST_TIMEOUT_MS); a mutation may or may not have been applied: "
                 "retry it with the same clientMutationId", request_id)

    def _too_large(self, request_id: str, *, executed: bool) -> bytes:
        limit = self._edge.max_response_bytes
        what = ("select fewer fields or items (a mutation was applied all the same: retry it with the same "
                "clientMutationId to read its answer)") if executed else \
            "not executed: the answers before it in the batch reached the limit"
        return orjson.dumps({"data": None, "errors": [{
            "message": f"the response would be larger than {limit} bytes (limit BOOKING_MAX_RESPONSE_BYTES); {what}",
            "extensions": {"code": "RESPONSE_TOO_LARGE", "maxBytes": limit, "requestId": request_id}}]})


def _request_error(body: bytes, media: MediaType) -> tuple[int, bytes]:
    """Strawberry's 200 answer to an operation that did not run (no data, errors without a path)
    as the fast path gives it: no data entry, and 400 under graphql-response+json (the spec)."""
    answer = orjson.loads(body)
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not errors or answer.get("data") is not None or any(e.get("path") is not None for e in errors):
        return 200, body
    return request_error_status(media), orjson.dumps({"errors": errors})


async def _respond(send: Send, status: int, body: bytes, request_id: str,
                   extra: list[tuple[bytes, bytes]], media: MediaType) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", media.header), (b"content-length", str(len(body)).encode()),
                            (b"x-request-id", request_id.encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> bytes | None:
    """The body, or None once it is longer than ``limit`` (checked before reading it all)."""
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _wants_page(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    return (scope["method"] == "GET" and not scope.get("query_string")
            and b"text/html" in headers.get(b"accept", b""))


def _bearer(header: bytes | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.decode("latin-1").partition(" ")
    token = token.strip()
    return token or None if scheme.lower() == "bearer" else None


def _request_id(header: bytes | None) -> str:
    if header and len(header) <= 64 and header.replace(b"-", b"").isalnum():
        return header.decode()
    return new_request_id()


#: A fresh request id: 48 random bits per process, then a counter (20 hex digits, more past 2**32).
new_request_id = UniqueIds(prefix_bytes=6)
