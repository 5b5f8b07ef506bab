"""The HTTP path on a tiny schema driven as an ASGI app: unexpected errors before execution, the
deadline during synchronous completion, and the bound on the response's size."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

import orjson
import pytest
import strawberry
from graphql import ExecutionResult, execute, parse

from booking_gateway.domain.outcome import Deps
from booking_gateway.fastpath.leaf_objects import CompletionBudget, LeafObjectExecutionContext
from booking_gateway.web.admission import Admission
from booking_gateway.web.documents import DocumentCache, DocumentLimits
from booking_gateway.web.http_graphql import EdgeLimits, GraphQLOverHTTP
from tests.asgi import asgi_request

TENANT = uuid.uuid4()


@strawberry.type
class Point:
    x: int
    y: int


#: Built once: the resolvers hand them out, so what a test times is completion, not building them
NUMBERS = list(range(1_500_000))
POINTS = [Point(x=i, y=-i) for i in range(400_000)]


@strawberry.type
class Query:
    @strawberry.field
    def numbers(self, n: int) -> list[int]:
        return NUMBERS[:n]

    @strawberry.field
    def points(self, n: int) -> list[Point]:
        return POINTS[:n]


SCHEMA = strawberry.Schema(query=Query, execution_context_class=LeafObjectExecutionContext)


async def known_key(token: str) -> uuid.UUID | None:
    return TENANT if token == "key" else None


def endpoint(*, timeout_s: float = 60, max_response_bytes: int = 8 * 1_048_576, max_batch: int = 0,
             tenant_for: Callable[[str], Awaitable[uuid.UUID | None]] = known_key,
             admission: Admission | None = None, fallback: Any = None) -> GraphQLOverHTTP:
    async def no_fallback(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not for HTTP POST")

    return GraphQLOverHTTP(
        SCHEMA, cast(Deps, None), tenant_for,
        admission=admission or Admission(DocumentCache(SCHEMA._schema, DocumentLimits())),
        edge=EdgeLimits(request_timeout_s=timeout_s, max_response_bytes=max_response_bytes, max_batch=max_batch),
        fallback=fallback or no_fallback, graphiql=fallback is not None)


async def call(app: GraphQLOverHTTP, body: object, *, method: str = "POST",
               headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, dict[bytes, bytes], Any]:
    raw = orjson.dumps(body)
    sent_headers = headers if headers is not None else [
        (b"content-type", b"application/json"), (b"authorization", b"Bearer key"), (b"x-request-id", b"req-42")]
    sent = await asgi_request(app, raw, sent_headers, method=method)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    return sent[0]["status"], dict(sent[0]["headers"]), orjson.loads(sent[1]["body"])


INTERNAL = {"errors": [{"message": "internal error; quote request id req-42 to the operator",
                        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}}]}


# --- unexpected errors before execution --------------------------------------------------------


async def test_a_failing_key_lookup_is_answered_500_with_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    async def database_down(token: str) -> uuid.UUID | None:
        raise ConnectionRefusedError("connect call failed ('127.0.0.1', 5432)")

    with caplog.at_level(logging.ERROR):
        status, headers, body = await call(endpoint(tenant_for=database_down), {"query": "{ numbers(n: 1) }"})
    assert status == 500
    assert body == INTERNAL
    assert headers[b"x-request-id"] == b"req-42"
    assert headers[b"content-type"] == b"application/json"
    logged = [r for r in caplog.records if "req-42" in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], ConnectionRefusedError)


async def test_a_failing_rate_limiter_is_answered_500_with_the_request_id() -> None:
    class BrokenLimiter:
        enabled = True
        burst = 10

        async def check(self, tenant_id: uuid.UUID, cost: int = 1) -> Any:
            raise RuntimeError("Redis said something unexpected")

    admission = Admission(DocumentCache(SCHEMA._schema, DocumentLimits()), BrokenLimiter())
    status, headers, body = await call(endpoint(admission=admission), {"query": "{ numbers(n: 1) }"})
    assert (status, body, headers[b"x-request-id"]) == (500, INTERNAL, b"req-42")


async def test_a_failing_graphiql_page_is_answered_500_with_the_request_id() -> None:
    async def broken_page(scope: Any, receive: Any, send: Any) -> None:
        raise OSError("template missing")

    status, headers, body = await call(endpoint(fallback=broken_page), None, method="GET", headers=[
        (b"accept", b"text/html"), (b"x-request-id", b"req-42")])
    assert (status, body, headers[b"x-request-id"]) == (500, INTERNAL, b"req-42")


# --- the deadline holds during synchronous completion ------------------------------------------


@pytest.mark.parametrize("query", ["{ numbers(n: 1500000) }", "{ points(n: 400000) { x y } }"],
                         ids=["scalars, graphql-core's way", "objects, completed in one step"])
async def test_the_deadline_stops_a_huge_synchronous_completion(query: str) -> None:
    started = time.monotonic()
    status, _, body = await call(endpoint(timeout_s=60, max_response_bytes=1 << 30), {"query": query})
    full = time.monotonic() - started
    assert status == 200
    assert "errors" not in body

    started = time.monotonic()
    status, _, body = await call(endpoint(timeout_s=0.1, max_response_bytes=1 << 30), {"query": query})
    limited = time.monotonic() - started
    assert status == 504
    assert "BOOKING_REQUEST_TIMEOUT_MS" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "TIMEOUT"
    # wide margin: completing it all took `full`; the deadline stopped it well before
    assert limited < full / 2, (limited, full)


# --- the response's size --------------------------------------------------------------------------


async def test_a_response_over_the_limit_is_replaced_by_an_error_and_one_under_it_is_sent() -> None:
    app = endpoint(max_response_bytes=10_000)
    status, _, body = await call(app, {"query": "{ numbers(n: 100) }"})
    assert (status, body) == (200, {"data": {"numbers": list(range(100))}})
    for query in ("{ numbers(n: 5000) }", "{ points(n: 1000) { x y } }"):
        status, _, body = await call(app, {"query": query})
        assert status == 200
        assert body["data"] is None
        error = body["errors"][0]
        assert error["extensions"] == {"code": "RESPONSE_TOO_LARGE", "maxBytes": 10_000, "requestId": "req-42"}
        assert "larger than 10000 bytes (limit BOOKING_MAX_RESPONSE_BYTES)" in error["message"]


async def test_a_response_just_over_the_limit_is_caught_after_serialization() -> None:
    """The count during completion is a lower bound; the serialized answer is what is measured."""
    data = orjson.dumps({"data": {"numbers": list(range(2000))}})
    _, _, body = await call(endpoint(max_response_bytes=len(data)), {"query": "{ numbers(n: 2000) }"})
    assert body == {"data": {"numbers": list(range(2000))}}
    _, _, body = await call(endpoint(max_response_bytes=len(data) - 1), {"query": "{ numbers(n: 2000) }"})
    assert body["errors"][0]["extensions"]["code"] == "RESPONSE_TOO_LARGE"


@pytest.mark.parametrize("query", ["{ numbers(n: 100000) }", "{ points(n: 100000) { x y } }"])
def test_completion_stops_early_once_the_answer_is_certain_to_be_too_large(query: str) -> None:
    budget = CompletionBudget(time.monotonic() + 60, 50_000)
    result = execute(SCHEMA._schema, parse(query), executor_class=LeafObjectExecutionContext, budget=budget)
    assert isinstance(result, ExecutionResult)
    assert budget.stopped == "size"  # during completion, not after serializing
    assert result.data is None  # completion was abandoned (the non-null list nulled the root)


async def test_a_batch_shares_the_limit_between_its_operations() -> None:
    app = endpoint(max_response_bytes=10_000, max_batch=3)
    status, _, body = await call(app, [{"query": "{ numbers(n: 10) }"}, {"query": "{ numbers(n: 5000) }"},
                                       {"query": "{ numbers(n: 10) }"}])
    assert status == 200
    assert body[0] == body[2] == {"data": {"numbers": list(range(10))}}
    assert body[1]["errors"][0]["extensions"]["code"] == "RESPONSE_TOO_LARGE"
    _, _, body = await call(app, [{"query": "{ numbers(n: 1500) }"}] * 3)  # ~6.9 kB each
    assert [b["data"] is not None for b in body] == [True, False, False]
    # the errors take room too: once there is none left, the rest is not even executed
    _, _, body = await call(endpoint(max_response_bytes=1024, max_batch=5),
                                 [{"query": "{ numbers(n: 1000) }"}] * 5)
    messages = [b["errors"][0]["message"] for b in body]
    assert all("larger than 1024 bytes (limit BOOKING_MAX_RESPONSE_BYTES)" in m for m in messages)
    assert "not executed" in messages[-1]
    assert "not executed" not in messages[0]
