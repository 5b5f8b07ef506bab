"""Every Redis key the gateway writes expires, or is deleted when its use ends (issue 12).

A gateway served in this process under a Redis prefix of its own takes a workload over HTTP
(bookings, conflicts, a reschedule, a cancellation, bookings on resources that do not exist,
a persisted query, a rate-limited flood) and a lock held and extended meanwhile; then every
key under the prefix is either gone or lives no longer than its setting: the lock TTL for a
lock zset, the bucket's span (burst / rate) for a rate bucket, BOOKING_PERSISTED_QUERY_TTL_S
for a persisted query and its tenant's quota counter. No other kind of key may exist.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from redis.asyncio import Redis

from booking_gateway.app import Gateway, create_app
from booking_gateway.domain.ports import Claim, ConflictSpace
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.redis.keys import lock_key, persisted_document_key, persisted_quota_key
from booking_gateway.infra.redis.rate_limit import rate_key
from booking_gateway.infra.settings import Settings
from booking_gateway.schema.ids import parse_global_id, to_global_id
from tests.integration.graphql_client import BOOK, CANCEL, CREATE_RESOURCE, RESCHEDULE
from tests.integration.redis_fixtures import delete_prefixed, redis_client, unique_prefix
from tests.integration.uvicorn_serving import serving

LOCK_TTL_MS = 10_000
RATE_PER_S, BURST = 20, 40
BUCKET_SPAN_MS = BURST * 1000 // RATE_PER_S


class Served:
    def __init__(self, url: str, gateway: Gateway, key: str, prefix: str) -> None:
        self.url, self.gateway, self.key, self.prefix = url, gateway, key, prefix
        self.http = httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"})

    async def post(self, query: str, **variables: Any) -> httpx.Response:
        return await self.http.post(f"{self.url}/graphql", json={"query": query, "variables": variables})

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.post(query, **variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    async with redis_client() as client:
        yield client


@pytest.fixture
async def served(settings: Settings, tenant_key: tuple[UUID, str], redis: Redis) -> AsyncIterator[Served]:
    prefix = unique_prefix()
    app = create_app(settings.model_copy(update={
        "redis_prefix": prefix, "lock_ttl_ms": LOCK_TTL_MS, "rate_limit_per_s": RATE_PER_S,
        "rate_limit_burst": BURST}))
    try:
        async with serving(app) as url:
            served = Served(url, app.state.gateway, tenant_key[1], prefix)
            yield served
            await served.http.aclose()
    finally:
        await delete_prefixed(redis, prefix)


async def _keys(redis: Redis, prefix: str) -> dict[str, int]:
    """Every key under ``prefix`` and its PTTL (-1: no expiry)."""
    keys = [key.decode() async for key in redis.scan_iter(match=f"{prefix}:*", count=500)]
    return {key: int(await redis.pttl(key)) for key in keys}


def _book_input(resource: str, day: int, hour: int, cmid: str) -> dict[str, str]:
    start = datetime(2031, 3, day, hour, tzinfo=UTC)
    return {"clientMutationId": cmid, "resourceId": resource, "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat()}


async def test_a_failed_booking_on_a_resource_that_does_not_exist_leaves_no_key(served: Served,
                                                                                redis: Redis) -> None:
    ghost = to_global_id("Resource", uuid.uuid4())
    for attempt in range(3):
        data = await served.data(BOOK, input=_book_input(ghost, 3, 9 + attempt, f"ghost-{attempt}"))
        assert data["bookSlot"]["error"]["code"] == "NOT_FOUND"
    keys = await _keys(redis, served.prefix)
    assert not [key for key, pttl in keys.items() if pttl < 0], keys  # nothing without an expiry
    assert [key for key in keys if ":rate:" not in key] == [], keys  # in fact nothing but the bucket


async def test_after_a_workload_every_key_expires_within_its_setting(served: Served, redis: Redis,
                                                                     tenant_id: UUID) -> None:
    created = await served.data(CREATE_RESOURCE, input={"clientMutationId": secrets.token_hex(6), "name": "R"})
    room = created["createResource"]["resource"]["id"]
    booked = []
    for hour in (9, 11, 13):
        data = await served.data(BOOK, input=_book_input(room, 4, hour, f"b{hour}"))
        assert data["bookSlot"]["error"] is None
        booked.append(data["bookSlot"]["booking"])
    clash = await served.data(BOOK, input=_book_input(room, 4, 9, "clash"))
    assert clash["bookSlot"]["error"]["code"] == "SLOT_UNAVAILABLE"
    moved = await served.data(RESCHEDULE, input={
        "clientMutationId": "move", "bookingId": booked[0]["id"], "start": "2031-03-04T15:00:00Z",
        "end": "2031-03-04T16:00:00Z"})
    assert moved["rescheduleBooking"]["error"] is None
    cancelled = await served.data(CANCEL, input={"clientMutationId": "cancel", "bookingId": booked[1]["id"]})
    assert cancelled["cancelBooking"]["error"] is None
    for attempt in range(3):
        ghost = to_global_id("Resource", uuid.uuid4())
        data = await served.data(BOOK, input=_book_input(ghost, 4, 9, f"ghost-{attempt}"))
        assert data["bookSlot"]["error"]["code"] == "NOT_FOUND"

    # an automatic persisted query registered (Apollo's protocol)
    document = "query Rooms { resources(first: 1) { edges { cursor } } }"
    sha256 = hashlib.sha256(document.encode()).hexdigest()
    registered = await served.http.post(f"{served.url}/graphql", json={
        "query": document, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}})
    assert "errors" not in registered.json(), registered.text

    # a flood, until the tenant's bucket refuses
    statuses = [(await served.post("{ __typename }")).status_code for _ in range(BURST + 20)]
    assert 429 in statuses

    # and a lock held (and extended) while the keys are looked at
    _, resource_id = parse_global_id(room, "id")
    window = TimeWindow(datetime(2031, 3, 5, 9, tzinfo=UTC), datetime(2031, 3, 5, 10, tzinfo=UTC))
    lock = served.gateway.lock
    async with lock.hold(ConflictSpace.of(tenant_id, Claim(resource_id, window))) as lease:
        assert lease.held
        assert await lock.extend(lease)
        keys = await _keys(redis, served.prefix)
    persisted = {persisted_document_key(served.prefix, tenant_id, sha256),
                 persisted_quota_key(served.prefix, tenant_id)}
    assert set(keys) == {lock_key(served.prefix, tenant_id, resource_id), rate_key(served.prefix, tenant_id),
                         *persisted}
    pq_ttl_ms = Settings().persisted_query_ttl_s * 1000
    for key, pttl in keys.items():
        limit = LOCK_TTL_MS if ":lock:" in key else pq_ttl_ms if ":pq" in key else BUCKET_SPAN_MS
        assert 0 < pttl <= limit, (key, pttl, limit)
    # the release deleted the emptied zset; the bucket and the persisted query expire by themselves
    assert set(await _keys(redis, served.prefix)) == {rate_key(served.prefix, tenant_id), *persisted}
