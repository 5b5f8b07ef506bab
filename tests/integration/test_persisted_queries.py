"""Persisted documents over HTTP against the real Redis and PostgreSQL: APQ shared by two gateways
(not found, register, hit), the hash rule, the per-tenant quota, and trusted-documents mode."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from redis.asyncio import Redis

from booking_gateway.app import Gateway, create_app
from booking_gateway.domain.tenancy import hash_secret, hint_of, new_secret
from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory
from booking_gateway.infra.settings import Settings, SettingsError
from booking_gateway.live.wsclient import GraphQLWebSocket
from tests.integration.redis_fixtures import delete_prefixed, redis_client, unique_prefix
from tests.integration.uvicorn_serving import serving

QUERY = "query Resources { resources(first: 5) { edges { node { id name } } } }"
OTHER = "query Names { resources(first: 1) { edges { node { name } } } }"
INTROSPECTION = "{ __schema { queryType { name } } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(sha256: str, query: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}}
    if query is not None:
        body["query"] = query
    return body


SUBSCRIPTION = "subscription($ids: [ID!]!, $w: TimeWindowInput!) { availabilityChanged(resourceIds: $ids, " \
               "window: $w) { reason availability { id version } } }"
CREATE = "mutation($i: CreateResourceInput!) { createResource(input: $i) { resource { id } } }"
DAY = {"start": "2031-07-01T00:00:00Z", "end": "2031-07-02T00:00:00Z"}


@contextlib.asynccontextmanager
async def serve(settings: Settings, key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway of its own (uvicorn in this process) and a client holding the tenant's key."""
    async with serving(create_app(settings)) as url, httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        yield client


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    async with redis_client() as client:
        yield client


@pytest.fixture
async def prefixed(settings: Settings, redis: Redis) -> AsyncIterator[Settings]:
    prefix = unique_prefix()
    yield settings.model_copy(update={"redis_prefix": prefix, "persisted_query_quota": 2})
    await delete_prefixed(redis, prefix)


@pytest.fixture
async def second_tenant_key(gateway: Gateway) -> str:
    directory = PostgresTenantDirectory(gateway.engine)
    tenant = await directory.create_tenant(f"t-{new_secret()[-12:]}")
    secret = new_secret()
    await directory.add_key(tenant.id, hash_secret(secret), hint_of(secret))
    return secret


def code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_a_document_registered_on_one_gateway_runs_by_hash_on_another(
        prefixed: Settings, tenant_key: tuple[UUID, str], redis: Redis) -> None:
    key = tenant_key[1]
    async with serve(prefixed, key) as one, serve(prefixed, key) as two:
        unknown = await one.post("/graphql", json=persisted(sha(QUERY)))
        assert unknown.status_code == 200
        assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
        assert code(unknown) == "PERSISTED_QUERY_NOT_FOUND"

        registered = await one.post("/graphql", json=persisted(sha(QUERY), QUERY))
        assert registered.status_code == 200
        assert "errors" not in registered.json(), registered.text

        hit = await two.post("/graphql", json=persisted(sha(QUERY)))  # a process that never saw the text
        assert hit.status_code == 200
        assert hit.json() == registered.json()
    stored = f"{prefixed.redis_prefix}:pq:{{{tenant_key[0]}}}:{sha(QUERY)}"
    assert await redis.get(stored) == QUERY.encode()
    assert 0 < await redis.ttl(stored) <= prefixed.persisted_query_ttl_s


async def test_another_tenant_does_not_see_the_document(prefixed: Settings, tenant_key: tuple[UUID, str],
                                                        second_tenant_key: str) -> None:
    async with serve(prefixed, tenant_key[1]) as mine, serve(prefixed, second_tenant_key) as theirs:
        assert (await mine.post("/graphql", json=persisted(sha(QUERY), QUERY))).status_code == 200
        assert code(await theirs.post("/graphql", json=persisted(sha(QUERY)))) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_text_that_does_not_match_its_hash_is_refused_and_not_stored(
        prefixed: Settings, tenant_key: tuple[UUID, str]) -> None:
    async with serve(prefixed, tenant_key[1]) as gateway:
        wrong = await gateway.post("/graphql", json=persisted(sha(OTHER), QUERY))
        assert wrong.status_code == 400
        assert code(wrong) == "PERSISTED_QUERY_HASH_MISMATCH"
        assert "sha256Hash" in wrong.json()["errors"][0]["message"]
        assert code(await gateway.post("/graphql", json=persisted(sha(OTHER)))) == "PERSISTED_QUERY_NOT_FOUND"


async def test_past_the_quota_documents_run_but_are_not_stored(prefixed: Settings,
                                                               tenant_key: tuple[UUID, str]) -> None:
    documents = [f"query Q{i} {{ resources(first: {i + 1}) {{ edges {{ node {{ id }} }} }} }}" for i in range(3)]
    async with serve(prefixed, tenant_key[1]) as gateway:
        for document in documents:
            ran = await gateway.post("/graphql", json=persisted(sha(document), document))
            assert ran.status_code == 200
            assert "errors" not in ran.json(), ran.text
    async with serve(prefixed, tenant_key[1]) as fresh:  # no LRU: only what Redis holds
        found = [await fresh.post("/graphql", json=persisted(sha(d))) for d in documents]
    assert ["errors" not in f.json() for f in found] == [True, True, False]
    assert code(found[2]) == "PERSISTED_QUERY_NOT_FOUND"


async def test_an_invalid_document_is_not_registered(prefixed: Settings, tenant_key: tuple[UUID, str]) -> None:
    broken = "query { resources(first: 1) { nope } }"
    async with serve(prefixed, tenant_key[1]) as gateway:
        refused = await gateway.post("/graphql", json=persisted(sha(broken), broken))
        assert code(refused) == "GRAPHQL_VALIDATION_FAILED"
        assert code(await gateway.post("/graphql", json=persisted(sha(broken)))) == "PERSISTED_QUERY_NOT_FOUND"


async def test_trusted_documents_run_only_what_the_manifest_lists(
        prefixed: Settings, tenant_key: tuple[UUID, str], tmp_path: Path) -> None:
    manifest = tmp_path / "persisted-query-manifest.json"
    manifest.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
        {"id": sha(QUERY), "name": "Resources", "type": "query", "body": QUERY}]}))
    async with serve(prefixed.model_copy(update={"trusted_documents": manifest}), tenant_key[1]) as gateway:
        by_hash = await gateway.post("/graphql", json=persisted(sha(QUERY)))
        by_text = await gateway.post("/graphql", json={"query": QUERY})
        assert by_hash.status_code == by_text.status_code == 200
        assert by_hash.json() == by_text.json()
        assert "errors" not in by_hash.json()

        unlisted = await gateway.post("/graphql", json=persisted(sha(OTHER), OTHER))
        assert (unlisted.status_code, code(unlisted)) == (400, "PERSISTED_QUERY_NOT_IN_LIST")
        text_only = await gateway.post("/graphql", json={"query": OTHER})
        assert (text_only.status_code, code(text_only)) == (400, "TRUSTED_DOCUMENT_REQUIRED")
        introspection = await gateway.post("/graphql", json={"query": INTROSPECTION})
        assert code(introspection) == "TRUSTED_DOCUMENT_REQUIRED"


def test_a_malformed_manifest_stops_the_start_with_the_file_and_the_problem(
        prefixed: Settings, tmp_path: Path) -> None:
    manifest = tmp_path / "broken.json"
    manifest.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1,
                                    "operations": [{"id": "x", "name": "X", "type": "query"}]}))
    with pytest.raises(SettingsError) as raised:
        create_app(prefixed.model_copy(update={"trusted_documents": manifest}))
    assert str(manifest) in str(raised.value)
    assert "operations[0].body" in str(raised.value)


async def test_a_subscription_registered_over_http_runs_by_hash_over_websocket(
        prefixed: Settings, tenant_key: tuple[UUID, str]) -> None:
    """Admission is shared: the WebSocket protocols resolve hashes exactly as HTTP does."""
    key = tenant_key[1]
    async with serve(prefixed, key) as gateway:
        created = await gateway.post("/graphql", json={"query": CREATE, "variables": {"i": {
            "clientMutationId": "ws-apq", "name": "Room"}}})
        variables = {"ids": [created.json()["data"]["createResource"]["resource"]["id"]], "w": DAY}
        async with GraphQLWebSocket.connect(str(gateway.base_url), key) as ws:
            await ws.start({**persisted(sha(SUBSCRIPTION)), "variables": variables})
            unknown = await ws.receive()
            assert unknown.type == "error"
            assert unknown.payload[0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
            await ws.start({**persisted(sha(SUBSCRIPTION), SUBSCRIPTION), "variables": variables})
            first = await ws.receive()
            assert (first.id, first.type) == ("2", "next")
            assert first.payload["data"]["availabilityChanged"]["reason"] == "SNAPSHOT"
            await ws.start({**persisted(sha(SUBSCRIPTION)), "variables": variables})
            by_hash = await ws.receive()
            assert (by_hash.id, by_hash.type) == ("3", "next")
            assert by_hash.payload == first.payload
