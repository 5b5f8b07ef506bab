"""bookableSlotsChanged against the real PostgreSQL and Redis: the SNAPSHOT is the bookableSlots
query, and each committed change that moves the starts pushes the recomputed ones."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from booking_gateway.app import Gateway
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory
from booking_gateway.live.hub import Listener
from booking_gateway.live.routing import LiveEvent, SlotsView
from booking_gateway.live.wsclient import GraphQLWebSocket
from booking_gateway.resolvers.subscriptions import LiveContext
from booking_gateway.schema.ids import parse_global_id, to_global_id
from tests.integration import test_live_server
from tests.integration.graphql_client import CANCEL, CREATE_RESOURCE, SCHEMA, Client
from tests.integration.test_live_server import Served, post
from tests.integration.test_resource_rules import BOOK, SLOTS, at, office_hours, set_rules

SUBSCRIBE = """subscription($ids: [ID!]!, $window: TimeWindowInput!, $duration: Int!, $step: Int) {
  bookableSlotsChanged(resourceIds: $ids, window: $window, durationMinutes: $duration, stepMinutes: $step) {
    resourceId reason slots { resourceId version rulesVersion durationMinutes starts } } }"""

HOLD = """mutation($input: HoldSlotInput!) { holdSlot(input: $input) { booking { id } error { code } } }"""
CONFIRM = """mutation($input: ConfirmBookingInput!) { confirmBooking(input: $input) { error { code } } }"""
RESCHEDULE = """mutation($input: RescheduleBookingInput!) { rescheduleBooking(input: $input) { error { code } } }"""
RELEASE = """mutation($input: ReleaseHoldInput!) { releaseHold(input: $input) { error { code } } }"""

#: the gateway served by uvicorn in this process, for the test over the wire
served = test_live_server.served

MONDAY = {"start": at("00:00"), "end": at("00:00", "2031-03-04")}


class Stream:
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def next(self, wait_s: float = 10.0) -> dict[str, Any]:
        result = await asyncio.wait_for(anext(self._stream), wait_s)
        assert result.errors is None, result.errors
        return dict(result.data["bookableSlotsChanged"])


@asynccontextmanager
async def subscribed(gateway: Gateway, tenant_id: UUID, ids: list[str], window: dict[str, str] = MONDAY,
                     duration: int = 60, step: int | None = 30) -> AsyncIterator[Stream]:
    context = LiveContext(tenant_id, gateway.deps, live=gateway.live)
    stream = await SCHEMA.subscribe(SUBSCRIBE, context_value=context, variable_values={
        "ids": ids, "window": window, "duration": duration, "step": step})
    assert hasattr(stream, "__anext__"), stream
    try:
        yield Stream(stream)
    finally:
        await stream.aclose()  # type: ignore[union-attr]


async def refusal(gateway: Gateway, tenant_id: UUID, **variables: Any) -> dict[str, Any]:
    """The one error of a subscription refused before its first event."""
    context = LiveContext(tenant_id, gateway.deps, live=gateway.live)
    values = {"ids": [], "window": MONDAY, "duration": 60, "step": 30, **variables}
    stream = await SCHEMA.subscribe(SUBSCRIBE, variable_values=values, context_value=context)
    if hasattr(stream, "__anext__"):
        try:
            result = await anext(stream)
        finally:
            await stream.aclose()
    else:
        result = stream
    assert result.errors, result
    assert len(result.errors) == 1, result.errors
    assert not result.data
    return dict(result.errors[0].formatted)


async def query_slots(client: Client, room: str, window: dict[str, str] = MONDAY,
                      duration: int = 60, step: int | None = 30) -> dict[str, Any]:
    [answer] = (await client.execute(SLOTS, ids=[room], window=window, duration=duration,
                                     step=step))["bookableSlots"]
    return dict(answer)


async def book(client: Client, room: str, start: str, end: str) -> dict[str, Any]:
    data = await client.execute(BOOK, input={"clientMutationId": secrets.token_hex(6), "resourceId": room,
                                             "start": start, "end": end})
    assert data["bookSlot"]["error"] is None, data
    return dict(data["bookSlot"]["booking"])


@pytest.fixture
async def client(gateway: Gateway, tenant_id: UUID) -> Client:
    gateway.live.start()  # not the sweeper: the tests sweep when they mean to
    return Client(gateway.deps, tenant_id)


async def a_room(client: Client, **rules: Any) -> str:
    room = await client.resource(f"Room {secrets.token_hex(4)}")
    assert (await set_rules(client, room, 0, office_hours(**rules)))["error"] is None
    return room


async def test_the_snapshot_is_the_bookable_slots_query_and_a_booking_and_its_cancel_push_the_starts(
        gateway: Gateway, client: Client, tenant_id: UUID) -> None:
    room = await a_room(client, bufferAfterMinutes=30)
    async with subscribed(gateway, tenant_id, [room]) as stream:
        first = await stream.next()
        assert first["reason"] == "SNAPSHOT"
        assert first["resourceId"] == room
        assert first["slots"] == await query_slots(client, room)
        before = set(first["slots"]["starts"])
        assert at("13:00") in before

        booking = await book(client, room, at("13:00"), at("14:00"))
        booked = await stream.next()
        assert booked["reason"] == "BOOKED"
        assert booked["slots"]["version"] > first["slots"]["version"]
        assert booked["slots"] == await query_slots(client, room)
        # its own window, and 14:00 whose booking would run into the 30-minute buffer after it
        assert before - set(booked["slots"]["starts"]) == {at("13:00"), at("13:30"), at("14:00")}

        cancelled = await client.execute(CANCEL, input={"clientMutationId": secrets.token_hex(6),
                                                        "bookingId": booking["id"]})
        assert cancelled["cancelBooking"]["error"] is None
        freed = await stream.next()
        assert freed["reason"] == "CANCELLED"
        assert freed["slots"]["version"] > booked["slots"]["version"]
        assert set(freed["slots"]["starts"]) == before


async def test_a_change_that_moves_no_start_pushes_nothing(
        gateway: Gateway, client: Client, tenant_id: UUID) -> None:
    room = await a_room(client)
    async with subscribed(gateway, tenant_id, [room]) as stream:
        first = await stream.next()
        # Tuesday is within the reach of a Monday subscription (buffers may span a day) but
        # moves none of Monday's starts: read, compared, not sent
        await book(client, room, at("10:00", "2031-03-04"), at("11:00", "2031-03-04"))
        await asyncio.sleep(0.3)
        await book(client, room, at("10:00"), at("11:00"))
        booked = await stream.next()
        assert booked["reason"] == "BOOKED"
        assert booked["slots"]["version"] == first["slots"]["version"] + 2, "the Tuesday change was skipped"
        assert at("10:00") not in booked["slots"]["starts"]
    for _ in range(100):  # the listener leaves as the closed stream unwinds
        if gateway.live.stats().listeners == 0:
            break
        await asyncio.sleep(0.02)
    assert gateway.live.stats().listeners == 0
    assert gateway.live.quotas.tenants() == 0


async def test_a_hold_blocks_its_starts_and_its_expiry_gives_them_back(
        gateway: Gateway, client: Client, tenant_id: UUID, admin_connection: asyncpg.Connection) -> None:
    room = await a_room(client)
    async with subscribed(gateway, tenant_id, [room]) as stream:
        first = await stream.next()
        held = await client.execute(HOLD, input={"clientMutationId": secrets.token_hex(6), "resourceId": room,
                                                 "start": at("15:00"), "end": at("16:00"), "ttlSeconds": 600})
        assert held["holdSlot"]["error"] is None
        blocked = await stream.next()
        assert blocked["reason"] == "HELD"
        assert set(first["slots"]["starts"]) - set(blocked["slots"]["starts"]) == {
            at("14:30"), at("15:00"), at("15:30")}

        _, hold_id = parse_global_id(held["holdSlot"]["booking"]["id"], "id")
        await admin_connection.execute(
            "UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = $1", hold_id)
        assert await gateway.sweeper.sweep_once() >= 1
        expired = await stream.next()
        assert expired["reason"] == "EXPIRED"
        assert expired["slots"]["starts"] == first["slots"]["starts"]
        assert expired["slots"]["version"] >= blocked["slots"]["version"]


async def test_a_released_hold_gives_its_starts_back(gateway: Gateway, client: Client, tenant_id: UUID) -> None:
    room = await a_room(client)
    async with subscribed(gateway, tenant_id, [room]) as stream:
        first = await stream.next()
        held = await client.execute(HOLD, input={"clientMutationId": secrets.token_hex(6), "resourceId": room,
                                                 "start": at("09:00"), "end": at("10:00")})
        assert (await stream.next())["reason"] == "HELD"
        released = await client.execute(RELEASE, input={"clientMutationId": secrets.token_hex(6),
                                                        "bookingId": held["holdSlot"]["booking"]["id"]})
        assert released["releaseHold"]["error"] is None
        freed = await stream.next()
        assert freed["reason"] == "RELEASED"
        assert freed["slots"]["starts"] == first["slots"]["starts"]


async def test_a_rules_change_pushes_rules_changed_with_the_new_starts(
        gateway: Gateway, client: Client, tenant_id: UUID) -> None:
    room = await a_room(client)
    other = await a_room(client)
    async with subscribed(gateway, tenant_id, [room, other]) as stream:
        snapshots = {e["resourceId"]: e for e in [await stream.next(), await stream.next()]}
        assert {e["reason"] for e in snapshots.values()} == {"SNAPSHOT"}
        assert set(snapshots) == {room, other}
        mornings = {"weekly": [{"day": "MONDAY", "ranges": [{"start": "08:00", "end": "12:00"}]}]}
        assert (await set_rules(client, room, 1, mornings))["error"] is None
        changed = await stream.next()
        assert changed["reason"] == "RULES_CHANGED"
        assert changed["resourceId"] == room
        assert changed["slots"]["rulesVersion"] == 2
        assert changed["slots"] == await query_slots(client, room)
        assert changed["slots"]["starts"][0] == at("08:00")
        assert changed["slots"]["starts"][-1] == at("11:00")


async def test_another_tenants_resource_is_not_found(gateway: Gateway, client: Client) -> None:
    room = await a_room(client)
    other = await PostgresTenantDirectory(gateway.engine).create_tenant(f"o-{secrets.token_hex(4)}")
    for ids in ([room], [await Client(gateway.deps, other.id).resource(), room]):
        error = await refusal(gateway, other.id, ids=ids)
        assert error["extensions"]["code"] == "NOT_FOUND"
        assert room in error["message"]
    await asyncio.sleep(0)
    assert gateway.live.stats().listeners == 0
    assert gateway.live.quotas.tenants() == 0


@pytest.mark.parametrize(("variables", "field", "rule"), [
    ({"duration": 0}, "durationMinutes", "between 1 and"),
    ({"duration": 32 * 24 * 60}, "durationMinutes", "between 1 and"),
    ({"step": 0}, "stepMinutes", "between 1 and 1440"),
    ({"step": 1441}, "stepMinutes", "between 1 and 1440"),
    ({"window": {"start": at("00:00"), "end": at("00:00", "2031-04-04")}}, "window", "31 days"),
    ({"window": {"start": at("10:00"), "end": at("09:00")}}, "window.end", "later than"),
    ({"ids": []}, "resourceIds", "1 to 100"),
])
async def test_arguments_are_checked_like_the_bookable_slots_query(
        gateway: Gateway, client: Client, tenant_id: UUID, variables: dict[str, Any], field: str,
        rule: str) -> None:
    room = await client.resource()
    error = await refusal(gateway, tenant_id, **{"ids": [room], **variables})
    assert error["extensions"]["code"] == "VALIDATION_FAILED", error
    assert error["extensions"]["field"] == field
    assert rule in error["message"]
    assert gateway.live.quotas.tenants() == 0


async def test_too_many_resources_and_too_many_candidate_starts_are_refused(
        gateway: Gateway, client: Client, tenant_id: UUID) -> None:
    rooms = [await client.resource(f"Room {i}") for i in range(10)]
    many = await refusal(gateway, tenant_id, ids=rooms + [to_global_id("Resource", uuid4()) for _ in range(91)])
    assert many["extensions"] == {"code": "VALIDATION_FAILED", "field": "resourceIds"}
    assert "1 to 100 resources, not 101" in many["message"]
    month = {"start": at("00:00"), "end": at("00:00", "2031-04-03")}
    # 10 resources x 31 days of 1-minute steps: more than 200,000 candidates, as for the query
    error = await refusal(gateway, tenant_id, ids=rooms, window=month, step=1)
    assert error["extensions"] == {"code": "VALIDATION_FAILED", "field": "stepMinutes"}
    assert "candidate starts" in error["message"]
    assert gateway.live.stats().listeners == 0
    assert gateway.live.quotas.tenants() == 0


async def test_over_websocket_two_subscribers_get_the_same_push(served: Served) -> None:
    """The wire, and the rendering shared by subscribers of the same document (fastpath.execution)."""
    data = await post(served, CREATE_RESOURCE, input={"clientMutationId": secrets.token_hex(6), "name": "Room"})
    room = data["createResource"]["resource"]["id"]
    async with GraphQLWebSocket.connect(served.url, served.key) as one, \
            GraphQLWebSocket.connect(served.url, served.key) as two:
        for ws in (one, two):
            await ws.subscribe(SUBSCRIBE, ids=[room], window=MONDAY, duration=60, step=60)
        firsts = [(await ws.receive()).payload["data"]["bookableSlotsChanged"] for ws in (one, two)]
        assert firsts[0] == firsts[1]
        assert firsts[0]["reason"] == "SNAPSHOT"
        assert len(firsts[0]["slots"]["starts"]) == 24  # no rules: open all day
        await post(served, BOOK, input={"clientMutationId": secrets.token_hex(6), "resourceId": room,
                                        "start": at("10:00"), "end": at("11:00")})
        pushed = [(await ws.receive()).payload["data"]["bookableSlotsChanged"] for ws in (one, two)]
        assert pushed[0] == pushed[1]
        assert pushed[0]["reason"] == "BOOKED"
        assert set(firsts[0]["slots"]["starts"]) - set(pushed[0]["slots"]["starts"]) == {at("10:00")}


async def test_listeners_of_the_same_view_share_one_read_and_one_event(
        gateway: Gateway, client: Client, tenant_id: UUID) -> None:
    room = await a_room(client)
    _, resource_id = parse_global_id(room, "id")
    view = SlotsView(TimeWindow(datetime(2031, 3, 3, tzinfo=UTC), datetime(2031, 3, 4, tzinfo=UTC)), 60, 30)
    hub = gateway.live

    async def first(listener: Listener) -> LiveEvent:
        async with asyncio.timeout(10):
            async for event in listener.events():
                return event
        raise AssertionError("no event")

    async with hub.listen(tenant_id, [resource_id], view) as one, hub.listen(tenant_id, [resource_id], view) as two:
        before = hub.reads
        await book(client, room, at("09:00"), at("10:00"))
        pushed = await first(one)
        assert pushed is await first(two)
        assert hub.reads == before + 1
        assert datetime(2031, 3, 3, 9, tzinfo=UTC) not in pushed.slots.starts
        assert datetime(2031, 3, 3, 10, tzinfo=UTC) in pushed.slots.starts


async def test_a_reschedule_moves_the_starts_and_confirming_a_live_hold_moves_none(
        gateway: Gateway, client: Client, tenant_id: UUID) -> None:
    room = await a_room(client)
    async with subscribed(gateway, tenant_id, [room]) as stream:
        first = await stream.next()
        booking = await book(client, room, at("09:00"), at("10:00"))
        assert (await stream.next())["reason"] == "BOOKED"
        moved = await client.execute(RESCHEDULE, input={"clientMutationId": secrets.token_hex(6),
                                                        "bookingId": booking["id"],
                                                        "start": at("15:00"), "end": at("16:00")})
        assert moved["rescheduleBooking"]["error"] is None, moved
        rescheduled = await stream.next()
        assert rescheduled["reason"] == "RESCHEDULED"
        assert set(first["slots"]["starts"]) - set(rescheduled["slots"]["starts"]) == {
            at("14:30"), at("15:00"), at("15:30")}

        held = await client.execute(HOLD, input={"clientMutationId": secrets.token_hex(6), "resourceId": room,
                                                 "start": at("11:00"), "end": at("12:00")})
        assert (await stream.next())["reason"] == "HELD"
        confirmed = await client.execute(CONFIRM, input={"clientMutationId": secrets.token_hex(6),
                                                         "bookingId": held["holdSlot"]["booking"]["id"],
                                                         "expectedVersion": 1})
        assert confirmed["confirmBooking"]["error"] is None, confirmed
        await asyncio.sleep(0.3)  # the CONFIRMED change is read and compared: the starts did not move
        await book(client, room, at("13:00"), at("14:00"))
        after = await stream.next()
        assert after["reason"] == "BOOKED", "nothing was sent for the confirmation"
