"""Races through the real adapters: many concurrent requests, real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from booking_gateway.domain.outcome import Deps
from tests.integration.graphql_client import AVAILABILITY, Client
from tests.invariants import Window, check_booking_answers

DAY = datetime(2027, 2, 1, tzinfo=UTC)


def random_windows(count: int, seed: int) -> list[Window]:
    rng = random.Random(seed)
    windows = []
    for _ in range(count):
        start = DAY + timedelta(minutes=15 * rng.randrange(0, 40))
        windows.append(Window(start, start + timedelta(minutes=rng.choice([15, 30, 45, 60, 90, 120, 240]))))
    return windows


async def confirmed_windows(conn: asyncpg.Connection, resource_global_id: str) -> list[Window]:
    from booking_gateway.schema.ids import parse_global_id

    _, resource_id = parse_global_id(resource_global_id, "id")
    rows = await conn.fetch("SELECT lower(during) s, upper(during) e FROM bookings "
                            "WHERE resource_id = $1 AND status = 'confirmed'", resource_id)
    return [Window(r["s"], r["e"]) for r in rows]


@pytest.fixture
def client(deps: Deps, tenant_id: UUID) -> Client:
    return Client(deps, tenant_id)


async def test_sixty_concurrent_bookings_of_arbitrary_length(
        client: Client, admin_connection: asyncpg.Connection) -> None:
    room = await client.resource("Hot room")
    requests = random_windows(60, seed=7)
    answers = await asyncio.gather(*(
        client.book(room, w.start.isoformat(), w.end.isoformat(), f"race-{i}")
        for i, w in enumerate(requests)))
    confirmed = await confirmed_windows(admin_connection, room)
    assert check_booking_answers(requests, answers, confirmed) == []
    assert confirmed, "someone must have won"
    assert any(a["error"] and a["error"]["code"] == "SLOT_UNAVAILABLE" for a in answers)

    data = await client.execute(AVAILABILITY, ids=[room], window={
        "start": DAY.isoformat(), "end": (DAY + timedelta(days=1)).isoformat()})
    busy = [Window.of(b) for b in data["availability"][0]["busy"]]
    covered = sum(((w.end - w.start) for w in busy), timedelta())
    assert covered == sum(((w.end - w.start) for w in confirmed), timedelta())
    assert data["availability"][0]["version"] == len(confirmed)


async def test_twenty_concurrent_retries_of_one_request_make_one_booking(
        client: Client, admin_connection: asyncpg.Connection) -> None:
    room = await client.resource("Double-click room")
    answers = await asyncio.gather(*(
        client.book(room, "2027-02-02T09:00:00Z", "2027-02-02T10:00:00Z", "the-same-click")
        for _ in range(20)))
    ids = {a["booking"]["id"] for a in answers if a["booking"]}
    assert len(ids) == 1, answers
    assert all(a["error"] is None for a in answers), [a["error"] for a in answers]
    assert sum(not a["replayed"] for a in answers) == 1
    assert len(await confirmed_windows(admin_connection, room)) == 1
