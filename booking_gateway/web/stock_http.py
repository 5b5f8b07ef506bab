"""``BOOKING_FAST_PATH=false``: operations executed by Strawberry's own ASGI view.

The transport checks stay :class:`~booking_gateway.web.http_graphql.GraphQLOverHTTP`'s (method,
content type, body size and time, API key, rate limit, batching, the operation's shape), so both
modes refuse alike; each admitted operation is then handed to ``strawberry.asgi.GraphQL`` as a
request of its own, on a schema built without any fast-path hook. What the fast path does at its
edge is done here through Strawberry's documented extension points:

- :class:`AdmittedDocuments`, a ``SchemaExtension``: the parse and validate steps answered from the
  gateway's :class:`~booking_gateway.web.documents.DocumentCache` (so documents are cached, and
  tokens, depth, aliases, cost and introspection limited, with the same errors and codes);
- ``process_result``: the answer's shape and the error masking of :func:`~booking_gateway.web.errors.masked`;
- ``get_context``: the tenant authenticated by the transport checks.

The request time limit (504) and the answer's size limit are applied around the view.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import orjson
from graphql import DocumentNode, GraphQLError, NameNode, OperationDefinitionNode, OperationType, parse
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from booking_gateway.infra.deadlines import Deadlines
from booking_gateway.resolvers.context import Context
from booking_gateway.web.admission import Admission, Admitted, Request
from booking_gateway.web.documents import DocumentCache, PreparedDocument
from booking_gateway.web.errors import error_body, masked

log = logging.getLogger(__name__)

#: Where the operation's context waits in the ASGI scope for the view's ``get_context``.
_CONTEXT = "booking_gateway.stock_context"
#: Set in the scope when the operation was refused before execution (its answer has no "data").
_REFUSED = "booking_gateway.stock_refused"
#: The operationName as sent (Strawberry's ``operation_name`` falls back to the document's first).
_OPERATION = "booking_gateway.stock_operation"


@dataclass
class DocumentsRef:
    """The document cache, bound once the schema it validates against exists."""

    documents: DocumentCache | None = None


class AdmittedDocuments(SchemaExtension):
    """Strawberry's parse and validate steps answered from the gateway's document cache."""

    def __init__(self, *, ref: DocumentsRef) -> None:
        self._ref = ref
        self._prepared: PreparedDocument | None = None

    def on_parse(self) -> Iterator[None]:
        documents = self._ref.documents
        context = self.execution_context
        assert documents is not None and context.query is not None
        prepared = self._prepared = documents.prepare(context.query)
        if prepared.parsed is None:  # syntax or token limit: one error, nothing to validate
            _refused(context.context)
            raise prepared.errors[0]
        context.graphql_document = prepared.parsed
        name = _sent_operation(context.context)
        if prepared.operation_type(name) is None:
            if prepared.document is not None:
                _refused(context.context)
                raise GraphQLError("unknown operationName, or several operations and no operationName",
                                   extensions={"code": "BAD_REQUEST"})
            # refused anyway (on_validate answers the refusal): a stand-in Strawberry can take the
            # operation's type from, as the fast path answers the refusal whatever the operationName
            context.graphql_document = _stand_in(name)
        yield

    def on_validate(self) -> Iterator[None]:
        documents, prepared, context = self._ref.documents, self._prepared, self.execution_context
        assert documents is not None and prepared is not None
        if prepared.document is None:  # over a limit or invalid
            _refused(context.context)
            context.pre_execution_errors = list(prepared.errors)
        else:
            too_costly = documents.cost_error(prepared, _sent_operation(context.context), context.variables)
            if too_costly is not None:
                _refused(context.context)
            # an empty list: validated already (Strawberry then skips its own validation)
            context.pre_execution_errors = [] if too_costly is None else [too_costly]
        yield


def _stand_in(name: str | None) -> DocumentNode:
    """``query <name> { __typename }``, for any name (never executed)."""
    document = parse("{ __typename }")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return DocumentNode(definitions=(OperationDefinitionNode(
        operation=OperationType.QUERY, name=None if name is None else NameNode(value=name),
        variable_definitions=(), directives=(), selection_set=operation.selection_set),))


def _sent_operation(context: Any) -> str | None:
    name = context.request.scope.get(_OPERATION) if isinstance(context, Context) and context.request else None
    return name if isinstance(name, str) else None


def _refused(context: Any) -> None:
    if isinstance(context, Context) and context.request is not None:
        context.request.scope[_REFUSED] = True


class StockView(GraphQL[Context, None]):
    """Strawberry's ASGI view for one admitted operation at a time."""

    def __init__(self, *args: Any, suggestions: bool, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "graphql_ide": None, "allow_queries_via_get": False})
        self._suggestions = suggestions

    async def get_context(self, request: StarletteRequest | WebSocket, response: Response | WebSocket) -> Context:
        context = request.scope[_CONTEXT]
        assert isinstance(context, Context)
        context.request = request
        return context

    async def process_result(self, request: StarletteRequest, result: ExecutionResult) -> GraphQLHTTPResponse:
        context = request.scope[_CONTEXT]
        errors = result.errors or []
        if request.scope.get(_REFUSED):  # as Admission refuses: formatted, no "data"
            return cast(GraphQLHTTPResponse, {"errors": [dict(e.formatted) for e in errors]})
        body: dict[str, Any] = {"data": result.data}
        if errors:
            body["errors"] = [masked(e, context.request_id, suggestions=self._suggestions) for e in errors]
        return cast(GraphQLHTTPResponse, body)

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()


class StockOperations:
    """Runs one operation through :class:`StockView`, under the request's time and size limits."""

    def __init__(self, view: StockView, admission: Admission, request_timeout_s: float) -> None:
        self._view = view
        self._admission = admission
        self._deadlines = Deadlines(request_timeout_s)

    async def one(self, scope: Scope, request: Request, context: Context) -> tuple[int, bytes] | None:
        """(status, body) of the operation, or None when it ran past the request's time limit."""
        admitted = self._admission.document(request.query, request.variables, request.operation_name)
        if isinstance(admitted, Admitted) and admitted.kind is OperationType.SUBSCRIPTION:
            return 400, error_body(400, "subscriptions are served over WebSocket at /graphql "
                                        "(graphql-transport-ws or graphql-ws)")
        body = orjson.dumps({"query": request.query, "variables": request.variables,
                             "operationName": request.operation_name})
        # handed over as a JSON POST whatever carried it (the transport checks are done)
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-length", b"content-type", b"accept")]
        inner: Scope = {**scope, "method": "POST", "query_string": b"", "headers": [
            *headers, (b"content-type", b"application/json"), (b"accept", b"application/json"),
            (b"content-length", str(len(body)).encode())], _CONTEXT: context, _OPERATION: request.operation_name}
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status, chunks = 500, []

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            with self._deadlines.limit():
                await self._view(inner, cast(Receive, receive), cast(Send, send))
        except TimeoutError:
            return None
        return status, b"".join(chunks)
