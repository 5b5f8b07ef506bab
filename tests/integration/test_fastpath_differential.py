"""The fast path answers exactly as Strawberry does without it (issue 13).

Two apps from ``create_app``: one with ``BOOKING_FAST_PATH=true``, the reference with ``false``
(a schema built without any fast-path hook, HTTP operations executed by ``strawberry.asgi.GraphQL``).
Two tenants seeded identically (tests/fuzz/world.populate): every case is sent to the fast app as
tenant A and to the reference as tenant B, so both see the same database state (twins), and the
answers are compared: HTTP status, ``data``, ``errors`` (message, locations, path, extensions), with
the tenants' own ids replaced by the same placeholders on both sides (A's first resource and B's
are both ``resource0``; an object created by a case is named by the order it first appears in).

The corpus: every GraphQL document written in the test suite (extracted from the string constants
of tests/), the fuzz strategies of tests/fuzz/strategies.py for every mutation, limit and error
cases (depth, aliases, tokens, cost, bad variables, unknown fields and operations, masked internal
errors, transport refusals), and subscriptions over WebSocket. ``test_a_broken_hook_is_reported``
breaks one hook on purpose and checks that the runner sees it.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import json
import os
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import orjson
import pytest
import uvicorn
from graphql import GraphQLError, OperationDefinitionNode, parse, print_ast
from hypothesis import HealthCheck, given, settings
from starlette.types import ASGIApp

from booking_gateway.app import create_app
from booking_gateway.domain import book_slot as book_slot_module
from booking_gateway.domain import resources as resources_module
from booking_gateway.domain.tenancy import hash_secret, hint_of, new_secret
from booking_gateway.fastpath import leaf_objects, root_resolvers
from booking_gateway.infra.postgres.store import PostgresBookingStore
from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory
from booking_gateway.infra.settings import Settings
from booking_gateway.live.wsclient import LEGACY_WS, SUBSCRIBE_AVAILABILITY, TRANSPORT_WS, GraphQLWebSocket
from tests.asgi import asgi_request
from tests.e2e.servers import free_port
from tests.fuzz.strategies import (
    FreshKey,
    IdRef,
    book_slot_inputs,
    cancel_booking_inputs,
    create_resource_inputs,
    reschedule_booking_inputs,
)
from tests.fuzz.world import TenantData, World, populate, raw_id
from tests.integration.graphql_client import AVAILABILITY, BOOK, CANCEL, CREATE_RESOURCE, RESCHEDULE

TESTS = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("BOOKING_DIFF_EXAMPLES", "40"))
DIFF = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


# --- the corpus ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One request: a GraphQL body (``variables`` may hold IdRef/FreshKey, resolved per side), or a
    raw body and headers for the transport's own refusals."""

    name: str
    query: str | None = None
    variables: Any = None
    operation_name: str | None = None
    raw: bytes | None = None
    headers: tuple[tuple[bytes, bytes], ...] | None = None
    method: str = "POST"


def documents_of_the_test_suite() -> list[str]:
    """Every string constant under tests/ that parses as a GraphQL document with an operation."""
    found: dict[str, None] = {}
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = node.value
            if not re.match(r"\s*(query|mutation|subscription|\{)", text) or len(text) > 200_000:
                continue
            try:
                document = parse(text)
            except GraphQLError:
                continue
            if any(isinstance(d, OperationDefinitionNode) for d in document.definitions):
                found[text] = None
    return list(found)


CORPUS = documents_of_the_test_suite()

WEEK = {"start": "2030-01-01T00:00:00Z", "end": "2030-01-08T00:00:00Z"}
ALL_ROOMS = [IdRef("own", index=i) for i in range(3)]


#: Twelve levels deep (BOOKING_MAX_QUERY_DEPTH is 10).
DEEP = ("{ node(id: \"x\") { ... on Resource { bookings { edges { node { resource { bookings { edges { node { "
        "resource { bookings { edges { node { id } } } } } } } } } } } } } }")


LIMITS = [
    Case("typename", "{ __typename }"),
    Case("too deep", DEEP),
    Case("too many aliases", "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"),
    Case("too many tokens", "{ " + " ".join("__typename" for _ in range(2500)) + " }"),
    Case("too costly", AVAILABILITY, {"ids": [IdRef("own")] * 400, "window": {
        "start": "2030-01-01T00:00:00Z", "end": "2031-01-01T00:00:00Z"}}),
    Case("unknown field", "{ resources { edges { node { id colour } } } }"),
    Case("unknown field, suggestion", "{ resource(id: \"x\") { nam } }"),
    Case("syntax error", "{ resources { "),
    Case("unknown operation", "query A { __typename } query B { __typename }", operation_name="C"),
    Case("refused, and an unknown operation", "query A { nope } query B { __typename }", operation_name="C"),
    Case("several operations, no name", "query A { __typename } query B { __typename }"),
    Case("named operation", "query A { __typename } query B { resources { edges { node { id } } } }",
         operation_name="B"),
    Case("missing variable", AVAILABILITY, {}),
    Case("variable of the wrong type", AVAILABILITY, {"ids": 7, "window": {"start": 1}}),
    Case("bad DateTime", AVAILABILITY, {"ids": [IdRef("own")], "window": {"start": "yesterday", "end": "x"}}),
    Case("instant out of range", AVAILABILITY, {"ids": [IdRef("own")], "window": {
        "start": "0001-01-01T00:00:00+01:00", "end": "2030-01-01T00:00:00Z"}}),
    Case("availability of a week", AVAILABILITY, {"ids": ALL_ROOMS, "window": WEEK}),
    Case("availability, another tenant's room", AVAILABILITY, {"ids": [IdRef("other")], "window": WEEK}),
    Case("a resource and its bookings", "query($id: ID!) { node(id: $id) { __typename id ... on Resource "
         "{ name timeZone bookings(first: 5) { edges { cursor node { id start end status version } } "
         "pageInfo { hasNextPage endCursor } } } } }", {"id": IdRef("own")}),
    Case("subscription over HTTP", "subscription { availabilityChanged(resourceIds: [], window: "
         "{start: \"2030-01-01T00:00:00Z\", end: \"2030-01-02T00:00:00Z\"}) { resourceId } }"),
    Case("an invalid subscription over HTTP", "subscription { availabilityChanged { nope } }"),
    Case("query is not a string", raw=b'{"query": 7}'),
    Case("variables not an object", raw=b'{"query": "{ __typename }", "variables": [1]}'),
    Case("not JSON", raw=b"{nope"),
    Case("a batch (off)", raw=b'[{"query": "{ __typename }"}]'),
    Case("wrong content type", "{ __typename }", headers=((b"content-type", b"text/plain"),)),
    Case("no API key", "{ __typename }", headers=((b"content-type", b"application/json"),)),
    Case("GET", "{ __typename }", method="GET"),
    Case("book, then book again over it", BOOK, {"input": {
        "clientMutationId": "diff-book-1", "resourceId": IdRef("own"), "start": "2031-02-01T09:00:00Z",
        "end": "2031-02-01T10:00:00+01:00", "reference": "order 7", "note": "n"}}),
    Case("the same, replayed", BOOK, {"input": {
        "clientMutationId": "diff-book-1", "resourceId": IdRef("own"), "start": "2031-02-01T09:00:00Z",
        "end": "2031-02-01T10:00:00+01:00", "reference": "order 7", "note": "n"}}),
    Case("overlapping", BOOK, {"input": {
        "clientMutationId": "diff-book-2", "resourceId": IdRef("own"), "start": "2031-02-01T08:30:00Z",
        "end": "2031-02-01T09:30:00Z"}}),
]


# --- the two sides --------------------------------------------------------------------------------


@dataclass
class Side:
    app: ASGIApp
    key: str
    world: World
    #: a tenant object's uuid -> its placeholder (shared names for the twins' seeded objects)
    names: dict[UUID, str] = field(default_factory=dict)

    def name(self, uuid: UUID) -> str:
        if uuid not in self.names:
            self.names[uuid] = f"new{sum(1 for n in self.names.values() if n.startswith('new'))}"
        return self.names[uuid]


@dataclass
class Twins:
    fast: Side
    reference: Side
    sent: int = 0
    #: the same tenants through apps with introspection off (BOOKING_ENV=production's default),
    #: batches of up to 3 operations and answers of at most 4 KiB
    closed: Twins | None = None


def resolve(value: Any, world: World, sent: int) -> Any:
    if isinstance(value, FreshKey):
        return f"diff-fresh-{sent}"  # the same key on both sides (keys are per tenant)
    if isinstance(value, IdRef):
        return value.resolve(world)
    if isinstance(value, dict):
        return {k: resolve(v, world, sent) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, world, sent) for v in value]
    return value


_GLOBAL_ID = re.compile(r"[A-Za-z0-9+/]{20,}={0,2}")
_NOW = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z")


def _recent(text: str) -> bool:
    """An instant of the server's clock (updatedAt...), which differs by the time between the sides."""
    return abs(datetime.fromisoformat(text) - datetime.now(UTC)) < timedelta(days=1)


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalised(side: Side, body: bytes, sent: dict[str, str]) -> str:
    """The answer with the tenant's ids (global and raw, and the id strings this side was sent in
    place of the other's: ``sent``) replaced by placeholders, and instants of the server's clock by <now>."""
    text = body.decode("utf-8", "replace")
    for value, placeholder in sorted(sent.items(), key=lambda item: -len(item[0])):
        text = text.replace(json.dumps(value)[1:-1], placeholder)
        text = text.replace(json.dumps(value[:60])[1:-1], placeholder + "[:60]")  # as ids.py quotes it
    text = _NOW.sub(lambda m: "<now>" if _recent(m.group(0)) else m.group(0), text)

    def raw(match: re.Match[str]) -> str:
        return f"<{side.name(UUID(match.group(0)))}>"

    def encoded(match: re.Match[str]) -> str:  # global ids and cursors: base64 text holding an id
        try:
            decoded = base64.b64decode(match.group(0), validate=True).decode()
        except ValueError:
            return match.group(0)
        return f"<b64:{_UUID.sub(raw, decoded)}>" if _UUID.search(decoded) else match.group(0)

    return _UUID.sub(raw, _GLOBAL_ID.sub(encoded, text))


def pairs(ours: Any, theirs: Any, found: dict[str, str]) -> dict[str, str]:
    """The strings where two sides' resolved variables differ (their ids, spelled as sent)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in ours.keys() & theirs.keys():
            pairs(ours[key], theirs[key], found)
    elif isinstance(ours, list) and isinstance(theirs, list):
        for one, other in zip(ours, theirs, strict=False):
            pairs(one, other, found)
    elif isinstance(ours, str) and isinstance(theirs, str) and ours != theirs and len(ours) >= 8:
        found[ours] = f"<sent{len(found)}>"
    return found


async def send(side: Side, case: Case, sent: int, variables: Any = None,
               replaced: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(status, content type, normalised body) of the case on one side."""
    if case.raw is not None:
        body = case.raw
    else:
        if variables is None:
            variables = resolve(case.variables, side.world, sent)
        body = json.dumps({"query": case.query, "variables": variables,
                           "operationName": case.operation_name}).encode()
    headers = list(case.headers) if case.headers is not None else [
        (b"content-type", b"application/json"), (b"authorization", f"Bearer {side.key}".encode())]
    headers.append((b"x-request-id", f"diff-{sent}".encode()))
    messages = await asgi_request(side.app, body, headers, method=case.method)
    start = next(m for m in messages if m["type"] == "http.response.start")
    answer = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    content_type = dict(start["headers"]).get(b"content-type", b"").decode()
    return start["status"], content_type, normalised(side, answer, replaced or {})


async def difference(twins: Twins, case: Case) -> str | None:
    """What differs between the two answers to ``case`` (None: nothing)."""
    twins.sent += 1
    ours = resolve(case.variables, twins.fast.world, twins.sent)
    theirs = resolve(case.variables, twins.reference.world, twins.sent)
    fast_sent = pairs(ours, theirs, {})
    reference_sent = {theirs_: placeholder for placeholder, theirs_ in zip(
        fast_sent.values(), pairs(theirs, ours, {}), strict=True)}
    fast = await send(twins.fast, case, twins.sent, ours, fast_sent)
    reference = await send(twins.reference, case, twins.sent, theirs, reference_sent)
    if fast == reference:
        return None
    return f"{case.name}:\n  fast:      {around(fast, reference)}\n  reference: {around(reference, fast)}"


def around(one: tuple[int, str, str], other: tuple[int, str, str]) -> str:
    """An answer's status, type and its body from a little before where it differs from the other."""
    body, against = one[2], other[2]
    at = next((i for i, (x, y) in enumerate(zip(body, against, strict=False)) if x != y),
              min(len(body), len(against)))
    return f"{one[0]} {one[1]} ...{body[max(0, at - 150):at + 250]}"


async def differences(twins: Twins, cases: list[Case]) -> list[str]:
    found = []
    for case in cases:
        if (diff := await difference(twins, case)) is not None:
            found.append(diff)
    return found


class Ascending:
    """uuid4's stand-in: ascending ids, so both tenants list their objects in creation order
    (listings are ordered by id; random ids would order the twins' objects differently)."""

    def __init__(self) -> None:
        self._next = secrets.randbits(40) << 88

    def __call__(self) -> UUID:
        self._next += 1
        return UUID(int=self._next)


@pytest.fixture(scope="module")
async def twins(database_url: str, redis_url: str, redis_prefix: str) -> AsyncIterator[Twins]:
    base = Settings(database_url=database_url, redis_url=redis_url, redis_prefix=redis_prefix,
                    rate_limit_per_s=0, lock_wait_ms=500, db_pool_size=4, db_pool_overflow=0)
    fast_app = create_app(base.model_copy(update={"fast_path": True}))
    reference_app = create_app(base.model_copy(update={"fast_path": False}))
    closed_apps = [create_app(base.model_copy(update={
        "fast_path": fast, "introspection": False, "max_batch": 3, "max_response_bytes": 4096}))
        for fast in (True, False)]
    gateway = fast_app.state.gateway
    conn = await asyncpg.connect(database_url)
    ids = Ascending()
    patch = pytest.MonkeyPatch()
    patch.setattr(resources_module, "uuid4", ids)
    patch.setattr(book_slot_module, "uuid4", ids)
    try:
        directory = PostgresTenantDirectory(gateway.engine)
        tag = secrets.token_hex(4)
        tenants, keys = [], []
        for side in ("a", "b"):
            tenant = await directory.create_tenant(f"diff-{side}-{tag}")
            key = new_secret()
            await directory.add_key(tenant.id, hash_secret(key), hint_of(key))
            tenants.append(TenantData(tenant.id))
            keys.append(key)
        a, b = tenants
        seeding = World(gateway.deps, conn, a, b)
        await populate(seeding, a, "twin")
        await populate(seeding, b, "twin")
        fast = Side(fast_app, keys[0], World(gateway.deps, conn, a, b))
        reference = Side(reference_app, keys[1], World(gateway.deps, conn, b, a))
        for kind in ("resources", "bookings"):
            for index, (ours, theirs) in enumerate(zip(getattr(a, kind), getattr(b, kind), strict=True)):
                fast.names[raw_id(ours)] = reference.names[raw_id(theirs)] = f"{kind[:-1]}{index}"
        fast.names[a.tenant_id] = reference.names[b.tenant_id] = "tenant"
        closed = Twins(Side(closed_apps[0], fast.key, fast.world, dict(fast.names)),
                       Side(closed_apps[1], reference.key, reference.world, dict(reference.names)))
        yield Twins(fast, reference, closed=closed)
    finally:
        patch.undo()
        await conn.close()
        for app in (fast_app, reference_app, *closed_apps):
            await app.state.gateway.stop()


# --- the tests -------------------------------------------------------------------------------------


def test_the_corpus_holds_the_documents_of_the_test_suite() -> None:
    assert len(CORPUS) >= 30, CORPUS  # not an empty comparison
    assert any("bookSlot" in d for d in CORPUS)
    assert any("availability" in d for d in CORPUS)


async def test_limit_and_error_cases_answer_alike(twins: Twins) -> None:
    assert await differences(twins, LIMITS) == []


#: Over 4 KiB whatever else the tests made: ten copies of the seeded resources and their bookings.
BIG = "{ " + " ".join(f"a{i}: resources(first: 20) {{ edges {{ node {{ id name timeZone bookings(first: 20) "
                      "{ edges { cursor node { id start end status version reference note } } } } } }"
                      for i in range(10)) + " }"


async def test_with_introspection_off_limits_errors_and_introspection_answer_alike(twins: Twins) -> None:
    assert twins.closed is not None
    introspection = [Case("introspection", "{ __schema { types { name } } }"),
                     Case("__type", '{ __type(name: "Booking") { fields { name } } }'),
                     Case("typename is not introspection", "{ __typename }"),
                     Case("a batch", raw=b'[{"query": "{ __typename }"}, {"query": "{ nope }"}, {"query": 1}]'),
                     Case("a batch over the limit", raw=orjson.dumps([{"query": "{ __typename }"}] * 4)),
                     Case("an answer over BOOKING_MAX_RESPONSE_BYTES", BIG),
                     Case("a batch whose answers reach the limit", raw=orjson.dumps([{"query": BIG}] * 2))]
    assert await differences(twins.closed, LIMITS + introspection) == []
    _, _, body = await send(twins.closed.fast, introspection[-2], 0)
    assert "RESPONSE_TOO_LARGE" in body, body
    _, _, body = await send(twins.closed.reference, introspection[0], 0)
    assert "INTROSPECTION_DISABLED" in body, body


async def test_every_document_of_the_test_suite_answers_alike(twins: Twins) -> None:
    cases = [Case(f"corpus #{i}: {d[:60]!r}", d, {}) for i, d in enumerate(CORPUS)]
    assert await differences(twins, cases) == []


def guessed_variables(document: str, index: int) -> dict[str, Any] | None:
    """Values for the document's variables, by type (None: it has none): the side's own objects, a
    week, a fresh booking of its own; a variable of a type not guessed is left out."""
    values: dict[str, Any] = {}
    for definition in parse(document).definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for variable in definition.variable_definitions or ():
            name, type_ = variable.variable.name.value, print_ast(variable.type).rstrip("!")
            start = f"2035-01-{1 + index % 28:02}T{index % 24:02}:00:00Z"
            guess = {
                "[ID!]": ALL_ROOMS, "TimeWindowInput": WEEK, "Boolean": True, "BookingStatus": "CONFIRMED",
                "Int": 3, "Float": 1.5, "[String!]": ["x"],
                "ID": IdRef("own", "bookings") if name.startswith("b") else IdRef("own"),
                "BookSlotInput": {"clientMutationId": FreshKey(), "resourceId": IdRef("own"), "start": start,
                                  "end": start.replace(":00:00Z", ":30:00Z"), "reference": "corpus"},
                "CreateResourceInput": {"clientMutationId": FreshKey(), "name": f"corpus {index}"},
            }.get(type_, _UNGUESSED)
            if guess is not _UNGUESSED:
                values[name] = guess
    return values or None


_UNGUESSED = object()


async def test_every_document_of_the_test_suite_with_variables_answers_alike(twins: Twins) -> None:
    cases = [Case(f"corpus #{i} with variables: {d[:60]!r}", d, variables)
             for i, d in enumerate(CORPUS) if (variables := guessed_variables(d, i)) is not None]
    assert len(cases) >= 20, "the documents with variables"
    assert await differences(twins, cases) == []


async def test_masked_internal_errors_answer_alike(twins: Twins, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("connection to 10.0.0.7 lost: SELECT * FROM bookings")

    monkeypatch.setattr(PostgresBookingStore, "get_resources", broken)
    cases = [Case("internal error in a query", "query($id: ID!) { booking(id: $id) { id resource { name } } }",
                  {"id": IdRef("own", "bookings")}),
             Case("internal error in a mutation", BOOK, {"input": {
                 "clientMutationId": "diff-broken", "resourceId": IdRef("own"),
                 "start": "2032-01-01T09:00:00Z", "end": "2032-01-01T10:00:00Z"}})]
    assert await differences(twins, cases) == []
    # and it was masked, not only equal
    _, _, body = await send(twins.fast, cases[0], 10_000)
    assert "INTERNAL" in body, body
    assert "10.0.0.7" not in body, body


@DIFF
@given(drawn=create_resource_inputs())
async def test_create_resource_fuzz_answers_alike(twins: Twins, drawn: Any) -> None:
    assert await differences(twins, [Case("createResource", CREATE_RESOURCE, {"input": drawn})]) == []


@DIFF
@given(drawn=book_slot_inputs())
async def test_book_slot_fuzz_answers_alike(twins: Twins, drawn: Any) -> None:
    assert await differences(twins, [Case("bookSlot", BOOK, {"input": drawn})]) == []


@DIFF
@given(drawn=cancel_booking_inputs())
async def test_cancel_booking_fuzz_answers_alike(twins: Twins, drawn: Any) -> None:
    assert await differences(twins, [Case("cancelBooking", CANCEL, {"input": drawn})]) == []


@DIFF
@given(drawn=reschedule_booking_inputs())
async def test_reschedule_booking_fuzz_answers_alike(twins: Twins, drawn: Any) -> None:
    assert await differences(twins, [Case("rescheduleBooking", RESCHEDULE, {"input": drawn})]) == []


# --- subscriptions over WebSocket ------------------------------------------------------------------

WS_DAY = {"start": "2034-03-01T00:00:00Z", "end": "2034-03-02T00:00:00Z"}

#: (name, document, variables, messages to read first, whether a booking on the side's first resource
#: follows them, and its event is read)
WS_CASES: list[tuple[str, str, Any, int, bool]] = [
    ("a snapshot, then a booking", SUBSCRIBE_AVAILABILITY, {"ids": [IdRef("own")], "window": WS_DAY}, 1, True),
    ("two resources", SUBSCRIBE_AVAILABILITY, {"ids": [IdRef("own", index=1), IdRef("own", index=2)],
                                               "window": WS_DAY}, 2, False),
    ("another tenant's resource", SUBSCRIBE_AVAILABILITY, {"ids": [IdRef("other")], "window": WS_DAY}, 1, False),
    ("a window out of range", SUBSCRIBE_AVAILABILITY, {"ids": [IdRef("own")], "window": {
        "start": "0001-01-01T00:00:00+01:00", "end": "2034-01-01T00:00:00Z"}}, 1, False),
    ("bad variables", SUBSCRIBE_AVAILABILITY, {"ids": 7}, 1, False),
    ("too deep", DEEP, {}, 1, False),
    ("unknown field", "subscription { availabilityChanged { nope } }", {}, 1, False),
    ("a query over the socket", AVAILABILITY, {"ids": ALL_ROOMS, "window": WEEK}, 2, False),
    ("a mutation over the socket", BOOK, {"input": {
        "clientMutationId": "diff-ws-mutation", "resourceId": IdRef("own", index=2),
        "start": "2034-04-01T09:00:00Z", "end": "2034-04-01T10:00:00Z"}}, 2, False),
]


@pytest.fixture(scope="module")
async def served(twins: Twins) -> AsyncIterator[dict[str, str]]:
    """Both apps behind uvicorn in this process (their live hubs started), for real WebSockets."""
    servers, tasks, urls = [], [], {}
    for label, side in (("fast", twins.fast), ("reference", twins.reference)):
        side.app.state.gateway.start()  # type: ignore[attr-defined]
        server = uvicorn.Server(uvicorn.Config(side.app, host="127.0.0.1", port=free_port(), log_level="warning",
                                               lifespan="off"))
        servers.append(server)
        tasks.append(asyncio.create_task(server.serve()))
        urls[label] = f"http://127.0.0.1:{server.config.port}"
    for _ in range(500):
        if all(s.started for s in servers):
            break
        await asyncio.sleep(0.02)
    yield urls
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks)


async def ws_answers(side: Side, url: str, protocol: str, n: int) -> list[str]:
    """Each WS case's messages on one side (a socket per case), normalised."""
    answers = []
    for index, (name, document, variables, first, book) in enumerate(WS_CASES):
        async with GraphQLWebSocket.connect(url, side.key, protocol=protocol) as ws:
            await ws.subscribe(document, **resolve(variables, side.world, n))
            messages = [await ws.receive() for _ in range(first)]
            if book:
                await send(side, Case("trigger", BOOK, {"input": {
                    "clientMutationId": f"diff-ws-{protocol}-{n}-{index}", "resourceId": IdRef("own"),
                    "start": f"2034-03-01T{n % 24:02}:{index:02}:00Z",  # a free window each time
                    "end": f"2034-03-01T{n % 24:02}:{index + 1:02}:00Z"}}), n)
                messages.append(await ws.receive())
        answers.append(f"{name}: " + normalised(side, orjson.dumps([(m.type, m.payload) for m in messages]), {}))
    return answers


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_subscriptions_over_websocket_answer_alike(twins: Twins, served: dict[str, str],
                                                         protocol: str) -> None:
    twins.sent += 1
    fast = await ws_answers(twins.fast, served["fast"], protocol, twins.sent)
    reference = await ws_answers(twins.reference, served["reference"], protocol, twins.sent)
    assert len(fast) == len(WS_CASES)
    assert [f for f, r in zip(fast, reference, strict=True) if f != r] == [], reference
    assert any('"BOOKED"' in answer for answer in fast), fast  # the live event itself was compared


def _mis_coercing(original: Any) -> Any:
    def build(cls: type, value: Any) -> Any:  # a window starts a day late
        late = {"start": value["start"] + timedelta(days=1)} if "start" in value else {}
        return original(cls, {**value, **late})
    return build


def _dropping_end(original: Any) -> Any:
    def complete(*args: Any) -> Any:  # completes every plain object without its "end"
        completed = original(*args)
        return {k: v for k, v in completed.items() if k != "end"} if isinstance(completed, dict) else completed
    return complete


@pytest.mark.parametrize("hook", ["flat_inputs", "leaf_objects"])
async def test_a_broken_hook_is_reported(twins: Twins, monkeypatch: pytest.MonkeyPatch, hook: str) -> None:
    """The runner is not blind: one hook of the fast path broken on purpose, and only that one."""
    if hook == "flat_inputs":
        monkeypatch.setattr(root_resolvers, "build_flat_input", _mis_coercing(root_resolvers.build_flat_input))
        evidence = '"window":{"start":"2030-01-02T00:00:00.000000Z","end"'  # the window's start, a day late
    else:
        monkeypatch.setattr(leaf_objects, "_complete", _dropping_end(leaf_objects._complete))
        evidence = '"window":{"start":"2030-01-01T00:00:00.000000Z"}'  # no end
    # a query: the sabotage leaves the twins' databases alike
    case = Case("availability of a week", AVAILABILITY, {"ids": ALL_ROOMS, "window": WEEK})
    found = await differences(twins, [case])
    assert len(found) == 1, found
    assert evidence in found[0].split("\n  reference:")[0], found
    monkeypatch.undo()
    assert await differences(twins, [case]) == []  # mended, equal again
