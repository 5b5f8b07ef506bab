"""The HTTP path's time limit and request ids, on a tiny schema driven as an ASGI app."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any, cast

import orjson
import strawberry

from booking_gateway.domain.outcome import Deps
from booking_gateway.infra.unique_ids import UniqueIds
from booking_gateway.web.admission import Admission
from booking_gateway.web.documents import DocumentCache, DocumentLimits
from booking_gateway.web.http_graphql import EdgeLimits, GraphQLOverHTTP, new_request_id
from tests.asgi import JSON_WITH_KEY, asgi_request

TENANT = uuid.uuid4()


@strawberry.type
class Query:
    @strawberry.field
    async def nap(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "awake"


def endpoint(timeout_s: float) -> GraphQLOverHTTP:
    async def tenant_for(token: str) -> uuid.UUID | None:
        return TENANT if token == "key" else None

    async def fallback(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not for HTTP POST")

    schema = strawberry.Schema(query=Query)
    return GraphQLOverHTTP(schema, cast(Deps, None), tenant_for,
                           admission=Admission(DocumentCache(schema._schema, DocumentLimits())),
                           edge=EdgeLimits(request_timeout_s=timeout_s), fallback=fallback, graphiql=False)


async def post(app: GraphQLOverHTTP, seconds: float,
               request_id: bytes | None = None) -> tuple[int, dict[bytes, bytes], Any]:
    body = orjson.dumps({"query": "query($s: Float!) { nap(seconds: $s) }", "variables": {"s": seconds}})
    headers = list(JSON_WITH_KEY)
    if request_id is not None:
        headers.append((b"x-request-id", request_id))
    sent = await asgi_request(app, body, headers)
    return sent[0]["status"], dict(sent[0]["headers"]), orjson.loads(sent[1]["body"])


async def test_a_request_past_the_time_limit_is_answered_504() -> None:
    app = endpoint(0.05)
    status, headers, body = await post(app, 1.0)
    assert status == 504
    error = body["errors"][0]
    assert error["message"] == ("the request took longer than 0.05 s (limit BOOKING_REQUEST_TIMEOUT_MS); a "
                                "mutation may or may not have been applied: retry it with the same "
                                "clientMutationId")
    assert error["extensions"] == {"code": "TIMEOUT", "requestId": headers[b"x-request-id"].decode()}


async def test_requests_in_time_are_answered_while_slow_ones_time_out() -> None:
    app = endpoint(0.1)
    answers = await asyncio.gather(*(post(app, 0.5 if i % 4 == 0 else 0.0) for i in range(16)))
    assert [a[0] for a in answers] == [504 if i % 4 == 0 else 200 for i in range(16)]
    assert all(a[2] == {"data": {"nap": "awake"}} for a in answers if a[0] == 200)
    status, _, _ = await post(app, 0.0)  # the limits that fired leave later requests alone
    assert status == 200


async def test_request_ids_are_taken_from_the_client_or_made_unique() -> None:
    app = endpoint(5)
    _, headers, _ = await post(app, 0, request_id=b"req-abc123")
    assert headers[b"x-request-id"] == b"req-abc123"
    _, headers, _ = await post(app, 0, request_id=b"not allowed!")
    made = headers[b"x-request-id"].decode()
    assert len(made) == 20
    assert int(made, 16) >= 0
    ids = {new_request_id() for _ in range(100_000)}
    assert len(ids) == 100_000


def test_request_ids_of_other_processes_differ() -> None:
    """Each process (and each forked worker) draws its own random prefix."""
    first = new_request_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report an id and leave at once
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child[:12] != first[:12]
    assert UniqueIds(prefix_bytes=6)()[:12] != first[:12]
