"""GraphQL over HTTP on the wire: GET queries, Accept negotiation, status codes, error codes,
DateTime text and CORS, against a gateway served by uvicorn on the real PostgreSQL and Redis."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest

from booking_gateway.app import create_app
from booking_gateway.infra.settings import Settings
from booking_gateway.live.wsclient import TRANSPORT_WS, GraphQLWebSocket
from booking_gateway.schema.scalars import RULE
from tests.integration.graphql_client import CREATE_RESOURCE
from tests.integration.uvicorn_serving import serving

ALLOWED = "https://app.example.com"
GQL = "application/graphql-response+json"
BOOK = """mutation($i: BookSlotInput!) { bookSlot(input: $i) { booking { start end } error { code message } } }"""
AVAILABILITY = """query($ids: [ID!]!, $w: TimeWindowInput!) {
  availability(resourceIds: $ids, window: $w) { busy { start end } free { start end } } }"""
RESOURCES = "{ resources(first: 50) { edges { node { name } } } }"


@dataclass
class Served:
    url: str
    key: str

    def auth(self, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **headers}


async def _serve(settings: Settings, key: str, **overrides: object) -> AsyncIterator[Served]:
    async with serving(create_app(settings.model_copy(update={"allowed_origins": ALLOWED, **overrides}))) as url:
        yield Served(url, key)


@pytest.fixture
async def served(settings: Settings, tenant_key: tuple[UUID, str]) -> AsyncIterator[Served]:
    async for s in _serve(settings, tenant_key[1], rate_limit_per_s=0):
        yield s


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def get(http: httpx.AsyncClient, served: Served, accept: str | None = None,
              **params: str) -> httpx.Response:
    headers = served.auth(**({"Accept": accept} if accept else {}))
    return await http.get(f"{served.url}/graphql", params=params, headers=headers)


async def post(http: httpx.AsyncClient, served: Served, body: object, accept: str | None = None) -> httpx.Response:
    headers = served.auth(**({"Accept": accept} if accept else {}))
    return await http.post(f"{served.url}/graphql", json=body, headers=headers)


async def a_room(http: httpx.AsyncClient, served: Served, name: str = "Room") -> str:
    answer = await post(http, served, {"query": CREATE_RESOURCE, "variables": {
        "input": {"clientMutationId": secrets.token_hex(6), "name": name}}})
    return str(answer.json()["data"]["createResource"]["resource"]["id"])


# --- GET -----------------------------------------------------------------------------------------

async def test_a_query_over_get_is_answered_and_kept_out_of_shared_caches(
        http: httpx.AsyncClient, served: Served) -> None:
    room = await a_room(http, served)
    answer = await get(http, served, query=AVAILABILITY, variables=json.dumps(
        {"ids": [room], "w": {"start": "2027-03-01T08:00:00Z", "end": "2027-03-01T09:00:00Z"}}))
    assert answer.status_code == 200
    assert answer.json() == {"data": {"availability": [{
        "busy": [], "free": [{"start": "2027-03-01T08:00:00.000000Z", "end": "2027-03-01T09:00:00.000000Z"}]}]}}
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "private, no-store"
    assert {"Authorization", "Accept"} <= {v.strip() for v in answer.headers["vary"].split(",")}
    assert answer.headers["x-request-id"]


async def test_get_answers_in_graphql_response_json_when_asked(http: httpx.AsyncClient, served: Served) -> None:
    answer = await get(http, served, accept=GQL, query="query Q { __typename }", operationName="Q")
    assert (answer.status_code, answer.json()) == (200, {"data": {"__typename": "Query"}})
    assert answer.headers["content-type"] == GQL


async def test_a_mutation_over_get_is_405_and_changes_nothing(http: httpx.AsyncClient, served: Served) -> None:
    name = f"never-{secrets.token_hex(4)}"
    mutation = f'mutation {{ createResource(input: {{clientMutationId: "{name}", name: "{name}"}}) {{ replayed }} }}'
    for accept in (None, GQL):
        answer = await get(http, served, accept=accept, query=mutation)
        assert answer.status_code == 405
        assert answer.headers["allow"] == "POST"
        assert answer.headers["cache-control"] == "private, no-store"
        [error] = answer.json()["errors"]
        assert error["extensions"]["code"] == "METHOD_NOT_ALLOWED"
        assert "mutations are not served over GET" in error["message"]
        assert "POST" in error["message"]
    listed = await post(http, served, {"query": RESOURCES})
    assert name not in listed.text


async def test_a_subscription_over_get_is_405(http: httpx.AsyncClient, served: Served) -> None:
    answer = await get(http, served, query=(
        'subscription { availabilityChanged(resourceIds: ["x"], window: {start: "2027-03-01T08:00:00Z", '
        'end: "2027-03-01T09:00:00Z"}) { reason } }'))
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert "subscriptions are not served over GET" in answer.json()["errors"][0]["message"]


async def test_other_methods_are_405_naming_both(http: httpx.AsyncClient, served: Served) -> None:
    answer = await http.put(f"{served.url}/graphql", json={"query": "{ __typename }"}, headers=served.auth())
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"


async def test_get_needs_the_api_key_too(http: httpx.AsyncClient, served: Served) -> None:
    answer = await http.get(f"{served.url}/graphql", params={"query": "{ __typename }"})
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_get_without_a_query_is_400_saying_where_it_is_missing(
        http: httpx.AsyncClient, served: Served) -> None:
    answer = await get(http, served, operationName="Q")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["message"] == "the query string has no 'query' string"


async def test_get_with_malformed_variables_is_400_naming_the_parameter(
        http: httpx.AsyncClient, served: Served) -> None:
    answer = await get(http, served, query="{ __typename }", variables="{nope")
    assert answer.status_code == 400
    assert "'variables' in the query string must be a JSON object" in answer.json()["errors"][0]["message"]


# --- negotiation and status codes ---------------------------------------------------------------

async def test_an_accept_naming_neither_type_is_406(http: httpx.AsyncClient, served: Served) -> None:
    for send in (post(http, served, {"query": "{ __typename }"}, accept="text/plain"),
                 get(http, served, accept="text/plain", query="{ __typename }")):
        answer = await send
        assert answer.status_code == 406
        [error] = answer.json()["errors"]
        assert error["extensions"]["code"] == "NOT_ACCEPTABLE"
        assert GQL in error["message"]


@pytest.mark.parametrize(("query", "variables", "code"), [
    ("{ __typename ", None, "GRAPHQL_PARSE_FAILED"),
    ("{ noSuchField }", None, "GRAPHQL_VALIDATION_FAILED"),
    ("query($id: ID!) { booking(id: $id) { id } }", {"id": None}, "BAD_USER_INPUT"),
    ("query($n: Int) { resources(first: $n) { edges { cursor } } }", {"n": "ten"}, "BAD_USER_INPUT"),
    ("{" + " a: __typename" * 40 + " }", None, "TOO_MANY_ALIASES"),
])
async def test_request_errors_are_400_with_graphql_response_json_and_200_with_json(
        http: httpx.AsyncClient, served: Served, query: str, variables: dict[str, Any] | None, code: str) -> None:
    body = {"query": query, "variables": variables}
    strict = await post(http, served, body, accept=GQL)
    assert strict.status_code == 400
    assert strict.headers["content-type"] == GQL
    assert "data" not in strict.json()
    assert [e["extensions"]["code"] for e in strict.json()["errors"]] == [code]
    legacy = await post(http, served, body, accept="application/json")
    assert legacy.status_code == 200
    assert legacy.json() == strict.json()


async def test_a_field_error_after_execution_stays_200_with_data(http: httpx.AsyncClient, served: Served) -> None:
    answer = await post(http, served, {"query": '{ booking(id: "not-an-id") { id } }'}, accept=GQL)
    assert answer.status_code == 200
    body = answer.json()
    assert "data" in body
    assert all("code" in e["extensions"] for e in body.get("errors", []))


@pytest.mark.parametrize(("body", "message"), [
    (b'{ "not a JSON', "the body is not valid JSON"),
    (b'{"query": "{ __typename }", "extensions": ["array"]}', "'extensions' must be a JSON object"),
    (b'{"query": "{ __typename }", "extensions": "s"}', "'extensions' must be a JSON object"),
    (b'{"qeury": "{ __typename }"}', "the body has no 'query' string"),
])
async def test_malformed_bodies_are_400_with_a_clear_message(
        http: httpx.AsyncClient, served: Served, body: bytes, message: str) -> None:
    for accept in ("application/json", GQL):
        answer = await http.post(f"{served.url}/graphql", content=body,
                                 headers=served.auth(**{"Content-Type": "application/json", "Accept": accept}))
        assert answer.status_code == 400
        [error] = answer.json()["errors"]
        assert error["message"].startswith(message)
        assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_a_map_of_extensions_is_allowed(http: httpx.AsyncClient, served: Served) -> None:
    answer = await post(http, served, {"query": "{ __typename }", "extensions": {"some": "thing"}})
    assert answer.json() == {"data": {"__typename": "Query"}}


# --- DateTime ------------------------------------------------------------------------------------

async def test_datetime_output_is_utc_with_six_fraction_digits(http: httpx.AsyncClient, served: Served) -> None:
    room = await a_room(http, served)
    booked = await post(http, served, {"query": BOOK, "variables": {"i": {
        "clientMutationId": secrets.token_hex(6), "resourceId": room,
        "start": "2027-03-02T10:00:00+01:00", "end": "2027-03-02T10:30:00.5Z"}}})
    assert booked.json()["data"]["bookSlot"]["booking"] == {"start": "2027-03-02T09:00:00.000000Z",
                                                           "end": "2027-03-02T10:30:00.500000Z"}


@pytest.mark.parametrize("bad", ["2027-03-02T09:00:00+25:00", "2027-02-30T09:00:00Z", "soon"])
async def test_a_bad_datetime_input_states_the_rule_and_names_the_variable(
        http: httpx.AsyncClient, served: Served, bad: str) -> None:
    answer = await post(http, served, {"query": BOOK, "variables": {"i": {
        "clientMutationId": "x", "resourceId": "x", "start": bad, "end": "2027-03-02T10:00:00Z"}}}, accept=GQL)
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("Variable '$i' has invalid value at .start")
    assert RULE in error["message"]
    for python in ("timedelta", "day is out of range", "ValueError", "Traceback"):
        assert python not in error["message"]


# --- rate limit, CORS, WebSocket ----------------------------------------------------------------

async def test_the_429_says_how_long_to_wait_in_milliseconds(
        settings: Settings, tenant_key: tuple[UUID, str], http: httpx.AsyncClient) -> None:
    async for served in _serve(settings, tenant_key[1], rate_limit_per_s=1, rate_limit_burst=1):
        answers = [await get(http, served, query="{ __typename }") for _ in range(3)]
        refused = [a for a in answers if a.status_code == 429]
        assert refused, [a.status_code for a in answers]
        [error] = refused[0].json()["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        wait_ms = error["extensions"]["retryAfterMs"]
        assert isinstance(wait_ms, int)
        assert 0 < wait_ms <= 1000
        assert int(refused[0].headers["retry-after"]) == -(-wait_ms // 1000)


async def test_cors_preflight_allows_apollos_headers_and_exposes_ours(
        http: httpx.AsyncClient, served: Served) -> None:
    preflight = await http.options(f"{served.url}/graphql", headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, content-type, apollographql-client-name, "
                                          "apollographql-client-version, x-request-id"})
    assert preflight.status_code == 200
    allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"apollographql-client-name", "apollographql-client-version", "authorization"} <= allowed
    refused = await http.options(f"{served.url}/graphql", headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-other"})
    assert refused.status_code == 400
    actual = await http.post(f"{served.url}/graphql", json={"query": "{ __typename }"},
                             headers=served.auth(Origin=ALLOWED, **{"apollographql-client-name": "web"}))
    assert actual.status_code == 200
    exposed = {h.strip().lower() for h in actual.headers["access-control-expose-headers"].split(",")}
    assert exposed == {"retry-after", "x-request-id"}


async def test_the_allowed_request_headers_are_a_setting(
        settings: Settings, tenant_key: tuple[UUID, str], http: httpx.AsyncClient) -> None:
    async for served in _serve(settings, tenant_key[1], cors_allow_headers="authorization, x-tenant-hint"):
        preflight = await http.options(f"{served.url}/graphql", headers={
            "Origin": ALLOWED, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, x-tenant-hint"})
        assert preflight.status_code == 200
        apollo = await http.options(f"{served.url}/graphql", headers={
            "Origin": ALLOWED, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "apollographql-client-name"})
        assert apollo.status_code == 400


async def test_websocket_errors_carry_codes_too(served: Served) -> None:
    async with GraphQLWebSocket.connect(served.url, served.key, protocol=TRANSPORT_WS) as ws:
        await ws.subscribe("subscription { nope }")
        invalid = await ws.receive()
        assert invalid.type == "error"
        assert [e["extensions"]["code"] for e in invalid.payload] == ["GRAPHQL_VALIDATION_FAILED"]
        await ws.subscribe(ids=["x"], window={"start": "2027-03-02T09:00:00+25:00", "end": "2027-03-02T10:00:00Z"})
        coerced = await ws.receive()
        assert coerced.type == "error"
        [error] = coerced.payload
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert RULE in error["message"]
