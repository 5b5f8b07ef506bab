"""Holds against the real PostgreSQL and Redis: they block like bookings, expire by themselves
(no sweeper needed), confirm and release with versions and replays, per tenant."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import orjson
import pytest
import redis.asyncio as aioredis

from booking_gateway.app import Gateway
from booking_gateway.domain.outcome import Deps
from booking_gateway.infra.redis.keys import channel_for
from booking_gateway.schema.ids import parse_global_id
from tests.integration.graphql_client import AVAILABILITY, BOOKING_FIELDS, CANCEL, RESCHEDULE, Client
from tests.invariants import Window, check_booking_answers

DAY = datetime(2027, 5, 3, tzinfo=UTC)
FIELDS = BOOKING_FIELDS.replace("version reference", "version expiresAt reference").replace(
    "... on VersionConflict", "... on HoldExpired { conflicts { start end } } ... on VersionConflict")
HOLD = f"mutation($input: HoldSlotInput!) {{ holdSlot(input: $input) {{ {FIELDS} }} }}"
CONFIRM = f"mutation($input: ConfirmBookingInput!) {{ confirmBooking(input: $input) {{ {FIELDS} }} }}"
RELEASE = f"mutation($input: ReleaseHoldInput!) {{ releaseHold(input: $input) {{ {FIELDS} }} }}"
BOOKING = "query($id: ID!) { booking(id: $id) { status version expiresAt } }"


def at(hour: float) -> str:
    return (DAY + timedelta(hours=hour)).isoformat()


async def hold(client: Client, room: str, start: float, end: float, cmid: str,
               **extra: Any) -> dict[str, Any]:
    data = await client.execute(HOLD, input={"clientMutationId": cmid, "resourceId": room,
                                             "start": at(start), "end": at(end), **extra})
    return dict(data["holdSlot"])


async def confirm(client: Client, booking: dict[str, Any], cmid: str,
                  version: int | None = None) -> dict[str, Any]:
    data = await client.execute(CONFIRM, input={
        "clientMutationId": cmid, "bookingId": booking["id"],
        "expectedVersion": booking["version"] if version is None else version})
    return dict(data["confirmBooking"])


async def release(client: Client, booking_id: str, cmid: str, **extra: Any) -> dict[str, Any]:
    data = await client.execute(RELEASE, input={"clientMutationId": cmid, "bookingId": booking_id,
                                                **extra})
    return dict(data["releaseHold"])


async def expire(conn: asyncpg.Connection, booking_id: str) -> None:
    """Move the hold's expiry into the past: what the database's clock would do in ttlSeconds."""
    _, uuid = parse_global_id(booking_id, "id")
    await conn.execute("UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = $1", uuid)


async def busy(client: Client, room: str) -> list[Window]:
    data = await client.execute(AVAILABILITY, ids=[room], window={"start": at(0), "end": at(24)})
    return [Window.of(b) for b in data["availability"][0]["busy"]]


@pytest.fixture
def client(deps: Deps, tenant_id: UUID) -> Client:
    return Client(deps, tenant_id)


async def test_a_live_hold_blocks_the_window_for_everyone(client: Client) -> None:
    room = await client.resource("Held room")
    held = await hold(client, room, 9, 10, "h1", ttlSeconds=60)
    assert held["error"] is None
    booking = held["booking"]
    assert booking["status"] == "HELD"
    assert booking["version"] == 1
    refused = await client.book(room, at(9.5), at(11), "b1")
    assert refused["error"]["code"] == "SLOT_UNAVAILABLE"
    assert [Window.of(c) for c in refused["error"]["conflicts"]] == [Window.of(booking)]
    again = await hold(client, room, 8, 9.25, "h2")
    assert again["error"]["code"] == "SLOT_UNAVAILABLE"
    assert await busy(client, room) == [Window.of(booking)]
    assert (await client.book(room, at(10), at(11), "b2"))["error"] is None  # touching is fine


async def test_the_hold_expires_on_the_database_clock_after_ttl_seconds(
        client: Client, admin_connection: asyncpg.Connection) -> None:
    room = await client.resource("Clocked room")
    before = await admin_connection.fetchval("SELECT now()")
    booking = (await hold(client, room, 9, 10, "h", ttlSeconds=120))["booking"]
    after = await admin_connection.fetchval("SELECT now()")
    expires = datetime.fromisoformat(booking["expiresAt"])
    assert before + timedelta(seconds=120) <= expires <= after + timedelta(seconds=120)
    default = (await hold(client, room, 11, 12, "d"))["booking"]
    later = await admin_connection.fetchval("SELECT now()")
    assert after + timedelta(seconds=300) <= datetime.fromisoformat(default["expiresAt"])
    assert datetime.fromisoformat(default["expiresAt"]) <= later + timedelta(seconds=300)


async def test_an_expired_hold_frees_the_window_without_any_sweeper(
        gateway: Gateway, client: Client) -> None:
    assert gateway.sweeper.status == "stopped"  # never started in this test
    room = await client.resource("Expiring room")
    booking = (await hold(client, room, 9, 10, "h", ttlSeconds=1))["booking"]
    await asyncio.sleep(1.2)
    assert await busy(client, room) == []
    found = await client.execute(BOOKING, id=booking["id"])
    assert found["booking"]["status"] == "EXPIRED"
    assert found["booking"]["version"] == 1
    taken = await client.book(room, at(9.5), at(10.5), "b")
    assert taken["error"] is None
    assert taken["booking"]["status"] == "CONFIRMED"
    again = await hold(client, room, 9, 9.5, "h2")  # the expired hold was ended by that booking
    assert again["error"] is None


async def test_confirm_before_expiry_and_its_replay(client: Client) -> None:
    room = await client.resource("Confirm room")
    booking = (await hold(client, room, 9, 10, "h"))["booking"]
    first = await confirm(client, booking, "c")
    assert first["error"] is None
    assert not first["replayed"]
    assert first["booking"]["status"] == "CONFIRMED"
    assert first["booking"]["version"] == 2
    replay = await confirm(client, booking, "c")
    assert replay["replayed"]
    assert replay["booking"] == first["booking"]
    stale = await confirm(client, booking, "c2")
    assert stale["error"]["code"] == "VERSION_CONFLICT"
    assert stale["error"]["currentVersion"] == 2
    reused = await confirm(client, booking, "c", version=2)
    assert reused["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await busy(client, room) == [Window.of(booking)]


async def test_confirm_after_expiry_succeeds_while_the_window_is_free(
        gateway: Gateway, client: Client, admin_connection: asyncpg.Connection) -> None:
    room = await client.resource("Late room")
    unswept = (await hold(client, room, 9, 10, "h1"))["booking"]
    swept = (await hold(client, room, 11, 12, "h2"))["booking"]
    await expire(admin_connection, unswept["id"])
    await expire(admin_connection, swept["id"])
    assert await gateway.sweeper.sweep_once() >= 1  # ends the second one (and maybe the first)
    for i, booking in enumerate((unswept, swept)):
        done = await confirm(client, booking, f"c{i}")
        assert done["error"] is None, done
        assert done["booking"]["status"] == "CONFIRMED"
        assert done["booking"]["version"] == 2


async def test_confirm_after_expiry_of_a_taken_window_is_hold_expired(
        client: Client, admin_connection: asyncpg.Connection) -> None:
    room = await client.resource("Lost room")
    booking = (await hold(client, room, 9, 10, "h"))["booking"]
    await expire(admin_connection, booking["id"])
    winner = await hold(client, room, 9.5, 11, "other")
    assert winner["error"] is None
    lost = await confirm(client, booking, "c")
    assert lost["error"]["__typename"] == "HoldExpired"
    assert lost["error"]["code"] == "HOLD_EXPIRED"
    assert [Window.of(c) for c in lost["error"]["conflicts"]] == [Window.of(winner["booking"])]
    replay = await confirm(client, booking, "c")
    assert replay["replayed"]
    assert replay["error"]["code"] == "HOLD_EXPIRED"
    state = (await client.execute(BOOKING, id=booking["id"]))["booking"]
    assert state["status"] == "EXPIRED"


async def test_release_frees_the_window(client: Client) -> None:
    room = await client.resource("Released room")
    booking = (await hold(client, room, 9, 10, "h"))["booking"]
    stale = await release(client, booking["id"], "r0", expectedVersion=5)
    assert stale["error"]["code"] == "VERSION_CONFLICT"
    done = await release(client, booking["id"], "r", expectedVersion=1)
    assert done["error"] is None
    assert done["booking"]["status"] == "RELEASED"
    assert done["booking"]["version"] == 2
    assert (await release(client, booking["id"], "r", expectedVersion=1))["replayed"]
    assert (await release(client, booking["id"], "r"))["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await release(client, booking["id"], "r2"))["booking"]["status"] == "RELEASED"
    assert await busy(client, room) == []
    assert (await client.book(room, at(9), at(10), "b"))["error"] is None
    refused = await confirm(client, done["booking"], "c")
    assert refused["error"]["code"] == "VALIDATION_FAILED"
    assert refused["error"]["field"] == "bookingId"


async def test_a_booking_is_neither_confirmed_nor_released_as_a_hold(client: Client) -> None:
    room = await client.resource("Booked room")
    booking = (await client.book(room, at(9), at(10), "b"))["booking"]
    refused = await release(client, booking["id"], "r")
    assert refused["error"]["code"] == "VALIDATION_FAILED"
    assert refused["error"]["field"] == "bookingId"
    assert (await confirm(client, booking, "c"))["booking"]["status"] == "CONFIRMED"  # no change


async def test_cancel_ends_a_hold_and_reschedule_refuses_one(client: Client) -> None:
    room = await client.resource("Cancel room")
    booking = (await hold(client, room, 9, 10, "h"))["booking"]
    moved = await client.execute(RESCHEDULE, input={
        "clientMutationId": "m", "bookingId": booking["id"], "start": at(12), "end": at(13)})
    assert moved["rescheduleBooking"]["error"]["field"] == "bookingId"
    cancelled = await client.execute(CANCEL, input={"clientMutationId": "x", "bookingId": booking["id"]})
    assert cancelled["cancelBooking"]["booking"]["status"] == "CANCELLED"
    assert await busy(client, room) == []


async def test_reschedule_into_an_expired_hold_ends_it(
        client: Client, admin_connection: asyncpg.Connection) -> None:
    room = await client.resource("Move room")
    held = (await hold(client, room, 9, 10, "h"))["booking"]
    booking = (await client.book(room, at(12), at(13), "b"))["booking"]
    await expire(admin_connection, held["id"])
    moved = await client.execute(RESCHEDULE, input={
        "clientMutationId": "m", "bookingId": booking["id"], "start": at(9), "end": at(10)})
    assert moved["rescheduleBooking"]["error"] is None, moved


async def test_bad_ttl_names_the_field(client: Client) -> None:
    room = await client.resource("Ttl room")
    for ttl in (0, 901):
        refused = await hold(client, room, 9, 10, f"h{ttl}", ttlSeconds=ttl)
        assert refused["error"]["field"] == "ttlSeconds"
        assert "900" in refused["error"]["message"]


async def test_another_tenants_hold_is_not_found(deps: Deps, client: Client, gateway: Gateway) -> None:
    from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory

    room = await client.resource("Private room")
    booking = (await hold(client, room, 9, 10, "h"))["booking"]
    other_tenant = await PostgresTenantDirectory(gateway.engine).create_tenant(f"o-{booking['id'][-8:]}")
    other = Client(deps, other_tenant.id)
    for answer in (await confirm(other, booking, "c"), await release(other, booking["id"], "r")):
        assert answer["error"]["code"] == "NOT_FOUND"
        assert answer["booking"] is None
    assert (await client.execute(BOOKING, id=booking["id"]))["booking"]["status"] == "HELD"


async def test_the_sweeper_publishes_expired(
        gateway: Gateway, client: Client, tenant_id: UUID, admin_connection: asyncpg.Connection) -> None:
    room = await client.resource("Swept room")
    booking = (await hold(client, room, 9, 10, "h"))["booking"]
    await expire(admin_connection, booking["id"])
    _, room_id = parse_global_id(room, "id")
    redis = aioredis.Redis.from_url(gateway.settings.redis_url or "")
    try:
        async with redis.pubsub() as pubsub:
            await pubsub.subscribe(channel_for(gateway.settings.redis_prefix, tenant_id, room_id))
            await pubsub.get_message(timeout=1.0)  # the subscribe confirmation
            gateway.sweeper.start()
            message = None
            for _ in range(50):
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                if message is not None:
                    break
    finally:
        await gateway.sweeper.stop()
        await redis.aclose()
    assert message is not None, "no EXPIRED event within 5 s"
    event = orjson.loads(message["data"])
    assert event["reason"] == "EXPIRED"
    assert event["start"].startswith("2027-05-03T09:00")
    _, uuid = parse_global_id(booking["id"], "id")
    assert await admin_connection.fetchval("SELECT status FROM bookings WHERE id = $1", uuid) == "expired"


async def blocking_windows(conn: asyncpg.Connection, room: str) -> list[Window]:
    _, resource_id = parse_global_id(room, "id")
    rows = await conn.fetch("SELECT lower(during) s, upper(during) e FROM bookings WHERE resource_id = $1 "
                            "AND (status = 'confirmed' OR (status = 'held' AND expires_at > now()))",
                            resource_id)
    return [Window(r["s"], r["e"]) for r in rows]


async def test_many_clients_race_holds_and_bookings_for_overlapping_windows(
        client: Client, admin_connection: asyncpg.Connection) -> None:
    room = await client.resource("Race room")
    rng = random.Random(14)
    requests, calls = [], []
    for i in range(48):
        start = rng.randrange(0, 40) / 4
        window = Window(DAY + timedelta(hours=start),
                        DAY + timedelta(hours=start + rng.choice([0.25, 0.5, 1, 2, 3])))
        requests.append(window)
        if i % 2:
            calls.append(hold(client, room, start, start + (window.end - window.start) / timedelta(hours=1),
                              f"race-h{i}", ttlSeconds=600))
        else:
            calls.append(client.book(room, window.start.isoformat(), window.end.isoformat(), f"race-b{i}"))
    answers = await asyncio.gather(*calls)
    blocking = await blocking_windows(admin_connection, room)
    assert check_booking_answers(requests, answers, blocking) == []
    statuses = {a["booking"]["status"] for a in answers if a["error"] is None}
    assert statuses == {"HELD", "CONFIRMED"}, statuses


async def test_the_sweepers_status_says_when_it_fails_and_when_it_is_off(gateway: Gateway) -> None:
    from booking_gateway.infra.hold_sweeper import HoldSweeper, SweepConfig
    from booking_gateway.infra.postgres.database import Database

    unreachable = Database("postgresql://postgres@127.0.0.1:1/nowhere")
    sweeper = HoldSweeper(unreachable, gateway.deps.events, SweepConfig(interval_s=0.05))
    assert sweeper.status == "stopped"
    sweeper.start()
    try:
        for _ in range(100):
            if sweeper.status.startswith("failing"):
                break
            await asyncio.sleep(0.05)
        assert sweeper.status.startswith("failing: "), sweeper.status
    finally:
        await sweeper.stop()
        await unreachable.close()
    assert sweeper.status == "stopped"
    off = HoldSweeper(unreachable, gateway.deps.events, SweepConfig(interval_s=0))
    off.start()
    assert off.status == "disabled"
