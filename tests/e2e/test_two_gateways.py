"""Two gateway processes on one PostgreSQL and one Redis, raced over HTTP."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from tests.e2e.servers import GatewayProcess, graphql
from tests.integration.graphql_client import AVAILABILITY, BOOK, CREATE_RESOURCE
from tests.invariants import Window, check_booking_answers

DAY = datetime(2027, 4, 1, tzinfo=UTC)


async def make_room(client: httpx.AsyncClient, gateway: GatewayProcess, key: str, name: str) -> str:
    data = await graphql(client, gateway.url, key, CREATE_RESOURCE,
                         input={"clientMutationId": f"room-{name}", "name": name})
    return str(data["createResource"]["resource"]["id"])


async def book(client: httpx.AsyncClient, gateway: GatewayProcess, key: str, room: str, w: Window,
               cmid: str) -> dict[str, object]:
    data = await graphql(client, gateway.url, key, BOOK, input={
        "clientMutationId": cmid, "resourceId": room, "start": w.start.isoformat(), "end": w.end.isoformat()})
    return dict(data["bookSlot"])


async def confirmed(database_url: str, key_tenant_room: str) -> list[Window]:
    from booking_gateway.schema.ids import parse_global_id

    _, resource_id = parse_global_id(key_tenant_room, "id")
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT lower(during) s, upper(during) e FROM bookings "
                                "WHERE resource_id = $1 AND status = 'confirmed'", resource_id)
    finally:
        await conn.close()
    return [Window(r["s"], r["e"]) for r in rows]


async def test_sixty_racing_bookings_across_two_processes(
        two_gateways: list[GatewayProcess], api_key: str, database_url: str) -> None:
    rng = random.Random(11)
    requests = []
    for _ in range(60):
        start = DAY + timedelta(minutes=15 * rng.randrange(0, 48))
        requests.append(Window(start, start + timedelta(minutes=rng.choice([15, 45, 60, 120, 180, 300]))))
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=100)) as client:
        room = await make_room(client, two_gateways[0], api_key, "Shared room")
        answers = await asyncio.gather(*(
            book(client, two_gateways[i % 2], api_key, room, w, f"race-{i}") for i, w in enumerate(requests)))
        windows = await confirmed(database_url, room)
        assert check_booking_answers(requests, answers, windows) == []
        assert len(windows) >= 1
        data = await graphql(client, two_gateways[1].url, api_key, AVAILABILITY, ids=[room], window={
            "start": DAY.isoformat(), "end": (DAY + timedelta(days=2)).isoformat()})
        busy = data["availability"][0]["busy"]
        assert sum((Window.of(b).end - Window.of(b).start for b in busy), timedelta()) == \
            sum((w.end - w.start for w in windows), timedelta())


async def test_twenty_retries_of_one_click_across_two_processes(
        two_gateways: list[GatewayProcess], api_key: str, database_url: str) -> None:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=100)) as client:
        room = await make_room(client, two_gateways[0], api_key, "Click room")
        w = Window(DAY + timedelta(days=3, hours=9), DAY + timedelta(days=3, hours=10))
        answers = await asyncio.gather(*(
            book(client, two_gateways[i % 2], api_key, room, w, "one-click") for i in range(20)))
    booking_ids = {a["booking"]["id"] for a in answers if a["booking"]}  # type: ignore[index]
    assert len(booking_ids) == 1
    assert all(a["error"] is None for a in answers)
    assert sum(a["replayed"] is False for a in answers) == 1
    assert await confirmed(database_url, room) == [w]
