"""Resource rules against the real PostgreSQL and Redis: setResourceRules, OUTSIDE_SCHEDULE,
buffers in the conflict space (lock, pre-check, constraint), bookableSlots == what bookSlot takes."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from booking_gateway.app import Gateway, NoLock
from booking_gateway.domain.outcome import Deps
from booking_gateway.domain.rules_cache import RulesCache
from booking_gateway.resolvers.subscriptions import LiveContext
from booking_gateway.schema.ids import parse_global_id
from tests.integration.graphql_client import CANCEL, SCHEMA, Client

SET_RULES = """mutation($input: SetResourceRulesInput!) { setResourceRules(input: $input) {
    clientMutationId replayed resource { id }
    rules { version timeZone weekly { day ranges { start end } } overrides { date closed ranges { start end } }
            bufferBeforeMinutes bufferAfterMinutes minNoticeMinutes maxHorizonDays
            minDurationMinutes maxDurationMinutes slotStepMinutes }
    error { __typename code message ... on ValidationFailed { field } ... on VersionConflict { currentVersion } } } }"""

BOOK = """mutation($input: BookSlotInput!) { bookSlot(input: $input) {
    replayed booking { id start end version }
    error { __typename code message ... on SlotUnavailable { conflicts { start end } }
            ... on OutsideSchedule { reason nearest { start end } } } } }"""

RESCHEDULE = """mutation($input: RescheduleBookingInput!) { rescheduleBooking(input: $input) {
    booking { id start end version }
    error { code ... on OutsideSchedule { reason nearest { start end } }
            ... on SlotUnavailable { conflicts { start end } } } } }"""

SLOTS = """query($ids: [ID!]!, $window: TimeWindowInput!, $duration: Int!, $step: Int) {
  bookableSlots(resourceIds: $ids, window: $window, durationMinutes: $duration, stepMinutes: $step) {
    resourceId version rulesVersion durationMinutes starts } }"""

WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
# 2031-03-03 is a Monday
DAY = "2031-03-03"


def office_hours(**extra: Any) -> dict[str, Any]:
    return {"weekly": [{"day": d, "ranges": [{"start": "09:00", "end": "12:00"},
                                             {"start": "13:00", "end": "17:00"}]} for d in WEEKDAYS[:5]],
            **extra}


@pytest.fixture
def client(deps: Deps, tenant_id: UUID) -> Client:
    return Client(deps, tenant_id)


async def set_rules(client: Client, room: str, version: int, rules: dict[str, Any],
                    cmid: str | None = None) -> dict[str, Any]:
    data = await client.execute(SET_RULES, input={
        "clientMutationId": cmid or f"rules-{room}-{version}-{random.random()}", "resourceId": room,
        "expectedVersion": version, "rules": rules})
    return dict(data["setResourceRules"])


async def book(client: Client, room: str, start: str, end: str, cmid: str) -> dict[str, Any]:
    data = await client.execute(BOOK, input={"clientMutationId": cmid, "resourceId": room,
                                             "start": start, "end": end})
    return dict(data["bookSlot"])


def at(hhmm: str, day: str = DAY) -> str:
    """An instant as the gateway writes it (six fraction digits), also accepted as input."""
    return f"{day}T{hhmm}:00.000000Z"


# --- setResourceRules ---------------------------------------------------------------------------


async def test_rules_are_versioned_idempotent_and_readable(client: Client) -> None:
    room = await client.resource()
    none = await client.execute("query($id: ID!) { resource(id: $id) { rules { version weekly { day } } } }",
                                id=room)
    assert none["resource"]["rules"] == {"version": 0, "weekly": None}

    first = await set_rules(client, room, 0, office_hours(bufferAfterMinutes=15), cmid="r1")
    assert first["error"] is None
    assert first["replayed"] is False
    assert first["rules"]["version"] == 1
    assert first["rules"]["weekly"][0] == {"day": "MONDAY", "ranges": [{"start": "09:00", "end": "12:00"},
                                                                       {"start": "13:00", "end": "17:00"}]}
    assert first["rules"]["bufferAfterMinutes"] == 15

    replay = await set_rules(client, room, 0, office_hours(bufferAfterMinutes=15), cmid="r1")
    assert replay["replayed"] is True
    assert replay["rules"]["version"] == 1
    reused = await set_rules(client, room, 0, office_hours(bufferAfterMinutes=30), cmid="r1")
    assert reused["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"

    stale = await set_rules(client, room, 0, office_hours(), cmid="r2")
    assert stale["error"]["code"] == "VERSION_CONFLICT"
    assert stale["error"]["currentVersion"] == 1
    assert stale["rules"] is None

    second = await set_rules(client, room, 1, {}, cmid="r3")
    assert second["rules"]["version"] == 2
    assert second["rules"]["weekly"] is None


async def test_invalid_rules_name_the_field_and_the_rule(client: Client) -> None:
    room = await client.resource()
    rules = {"weekly": [{"day": "MONDAY", "ranges": []}, {"day": "TUESDAY", "ranges": []},
                        {"day": "WEDNESDAY", "ranges": [{"start": "10:00", "end": "09:00"}]}]}
    refused = await set_rules(client, room, 0, rules)
    assert refused["error"]["code"] == "VALIDATION_FAILED"
    assert refused["error"]["field"] == "rules.weekly[2].ranges[0].end"
    assert refused["error"]["message"] == "rules.weekly[2].ranges[0].end: must be after start"
    negative = await set_rules(client, room, 0, {"bufferBeforeMinutes": -5})
    assert negative["error"]["field"] == "rules.bufferBeforeMinutes"


# --- bookings the rules refuse ------------------------------------------------------------------


async def test_a_booking_outside_the_rules_is_refused_with_the_reason_and_nearest_windows(client: Client) -> None:
    room = await client.resource()
    await set_rules(client, room, 0, office_hours(slotStepMinutes=30, maxDurationMinutes=120))

    lunch = await book(client, room, at("12:00"), at("13:00"), "lunch")
    assert lunch["booking"] is None
    assert lunch["error"]["__typename"] == "OutsideSchedule"
    assert lunch["error"]["code"] == "OUTSIDE_SCHEDULE"
    assert lunch["error"]["reason"] == "CLOSED"
    # an hour either side of 12:00 (11:00, 13:00), then the nearer of the 90-minute ties
    assert lunch["error"]["nearest"] == [{"start": at("10:30"), "end": at("11:30")},
                                         {"start": at("11:00"), "end": at("12:00")},
                                         {"start": at("13:00"), "end": at("14:00")}]
    taken = await book(client, room, at("13:00"), at("14:00"), "near")
    assert taken["error"] is None, taken

    saturday = await book(client, room, at("10:00", "2031-03-08"), at("11:00", "2031-03-08"), "sat")
    assert saturday["error"]["reason"] == "CLOSED"
    off_step = await book(client, room, at("09:10"), at("10:10"), "step")
    assert off_step["error"]["reason"] == "OFF_STEP"
    too_long = await book(client, room, at("13:00"), at("16:00"), "long")
    assert too_long["error"]["reason"] == "TOO_LONG"
    past = await book(client, room, "2020-03-02T09:00:00Z", "2020-03-02T10:00:00Z", "past")
    assert past["error"]["reason"] == "TOO_SOON"


async def test_a_reschedule_outside_the_rules_is_refused(client: Client) -> None:
    room = await client.resource()
    await set_rules(client, room, 0, office_hours())
    booked = await book(client, room, at("09:00"), at("10:00"), "b")
    moved = (await client.execute(RESCHEDULE, input={
        "clientMutationId": "m", "bookingId": booked["booking"]["id"], "start": at("17:00"),
        "end": at("18:00")}))["rescheduleBooking"]
    assert moved["booking"] is None
    assert moved["error"]["code"] == "OUTSIDE_SCHEDULE"
    assert moved["error"]["reason"] == "CLOSED"
    ok = (await client.execute(RESCHEDULE, input={
        "clientMutationId": "m2", "bookingId": booked["booking"]["id"], "start": at("15:00"),
        "end": at("16:00")}))["rescheduleBooking"]
    assert ok["error"] is None


async def test_a_rules_change_in_another_process_is_seen_by_the_next_booking(
        gateway: Gateway, client: Client, tenant_id: UUID) -> None:
    """Two gateway processes, two rules caches: the stale one is caught by the commit."""
    room = await client.resource()
    other = Client(replace(gateway.deps, rules=RulesCache()), tenant_id)
    assert (await book(other, room, at("07:00"), at("08:00"), "warm"))["error"] is None  # caches "open"
    await set_rules(client, room, 0, office_hours())  # this process closes the early hours
    late = await book(other, room, at("07:00", "2031-03-04"), at("08:00", "2031-03-04"), "late")
    assert late["error"]["reason"] == "CLOSED"
    opened = await book(other, room, at("09:00", "2031-03-04"), at("10:00", "2031-03-04"), "open")
    assert opened["error"] is None


# --- buffers ------------------------------------------------------------------------------------


async def test_bookings_whose_buffers_overlap_conflict(client: Client) -> None:
    room = await client.resource()
    await set_rules(client, room, 0, {"bufferBeforeMinutes": 10, "bufferAfterMinutes": 15})
    assert (await book(client, room, at("09:00"), at("10:00"), "a"))["error"] is None
    touching = await book(client, room, at("10:10"), at("11:00"), "b")  # its buffer starts at 10:00
    assert touching["error"]["code"] == "SLOT_UNAVAILABLE"
    assert touching["error"]["conflicts"] == [{"start": at("09:00"), "end": at("10:00")}]
    clear = await book(client, room, at("10:25"), at("11:00"), "c")  # blocks from 10:15
    assert clear["error"] is None


@pytest.mark.parametrize("locked", [True, False], ids=["lock+constraint", "constraint-only"])
async def test_a_race_for_windows_whose_buffers_overlap_has_exactly_one_winner(
        gateway: Gateway, tenant_id: UUID, locked: bool) -> None:
    deps = gateway.deps if locked else replace(gateway.deps, lock=NoLock())
    client = Client(deps, tenant_id)
    room = await client.resource(f"race-{locked}")
    await set_rules(client, room, 0, {"bufferAfterMinutes": 20})
    # 24 clients on 6 disjoint 2-minute windows 3 minutes apart: every pair is within the buffer
    windows = [(f"10:{m:02}", f"10:{m + 2:02}") for m in range(0, 18, 3)]
    attempts = [book(client, room, at(s), at(e), f"race-{i}-{s}")
                for i in range(4) for s, e in windows]
    results = await asyncio.gather(*attempts)
    winners = [r for r in results if r["error"] is None]
    assert len(winners) == 1, [r["error"] for r in results]
    assert {r["error"]["code"] for r in results if r["error"]} <= {"SLOT_UNAVAILABLE", "CONTENDED"}


# --- bookableSlots ------------------------------------------------------------------------------


async def test_bookable_slots_are_exactly_what_book_slot_accepts(client: Client) -> None:
    room = await client.resource(time_zone="Europe/Berlin")
    await set_rules(client, room, 0, office_hours(slotStepMinutes=30, bufferAfterMinutes=15,
                                                  overrides=[{"date": "2031-03-05", "closed": True}]))
    for start, end in (("09:00", "10:00"), ("14:30", "15:00")):  # Berlin is UTC+1 in March
        assert (await book(client, room, at(start), at(end), f"seed-{start}"))["error"] is None
    window = {"start": f"{DAY}T00:00:00Z", "end": "2031-03-06T00:00:00Z"}
    [answer] = (await client.execute(SLOTS, ids=[room], window=window, duration=60, step=30))["bookableSlots"]
    assert answer["resourceId"] == room
    assert answer["rulesVersion"] == 1
    assert answer["durationMinutes"] == 60
    starts = answer["starts"]
    assert starts, "some slots are free"
    assert all(not s.startswith("2031-03-05") for s in starts), "the closed day offers nothing"

    async def probe(start: str, tag: str) -> dict[str, Any]:
        end = (datetime.fromisoformat(start) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
        return await book(client, room, start, end, f"probe-{tag}-{start}")

    for start in starts:  # each offered start is accepted; cancelled again so the state stays
        taken = await probe(start, "offered")
        assert taken["error"] is None, (start, taken["error"])
        cancelled = await client.execute(CANCEL, input={"clientMutationId": f"undo-{start}",
                                                        "bookingId": taken["booking"]["id"]})
        assert cancelled["cancelBooking"]["error"] is None
    grid = [f"{d}T{h:02}:{m:02}:00.000000Z" for d in ("2031-03-03", "2031-03-04", "2031-03-05")
            for h in range(24) for m in (0, 30)]
    others = [s for s in grid if s not in starts]
    for start in random.Random(7).sample(others, 30):  # a sample of the others is refused
        refused = await probe(start, "other")
        assert refused["error"] is not None, start
        assert refused["error"]["code"] in ("OUTSIDE_SCHEDULE", "SLOT_UNAVAILABLE"), refused["error"]


async def test_bookable_slots_validate_their_arguments(client: Client) -> None:
    room = await client.resource()
    window = {"start": f"{DAY}T00:00:00Z", "end": "2031-03-04T00:00:00Z"}
    errors = await client.errors(SLOTS, ids=[room], window=window, duration=0, step=30)
    assert errors[0]["extensions"]["code"] == "VALIDATION_FAILED"
    assert "durationMinutes" in errors[0]["message"]


# --- live availability --------------------------------------------------------------------------


async def test_subscribers_hear_rules_changed(gateway: Gateway, client: Client, tenant_id: UUID) -> None:
    gateway.start()
    room = await client.resource()
    context = LiveContext(tenant_id, gateway.deps, live=gateway.live)
    stream = await SCHEMA.subscribe(
        """subscription($ids: [ID!]!, $window: TimeWindowInput!) { availabilityChanged(resourceIds: $ids,
             window: $window) { resourceId reason changed { start end } availability { version } } }""",
        variable_values={"ids": [room], "window": {"start": at("00:00"), "end": at("00:00", "2031-03-04")}},
        context_value=context)
    try:
        first = await anext(stream)  # type: ignore[arg-type]
        assert first.data["availabilityChanged"]["reason"] == "SNAPSHOT"
        await set_rules(client, room, 0, office_hours())
        changed = await asyncio.wait_for(anext(stream), 10)  # type: ignore[arg-type]
        event = changed.data["availabilityChanged"]
        assert event["reason"] == "RULES_CHANGED"
        assert event["changed"] == {"start": at("00:00"), "end": at("00:00", "2031-03-04")}
        assert event["availability"]["version"] > first.data["availabilityChanged"]["availability"]["version"]
    finally:
        await stream.aclose()  # type: ignore[union-attr]


# --- a rules change racing a booking ------------------------------------------------------------


async def test_a_booking_racing_a_rules_change_is_checked_against_the_new_rules(
        client: Client, admin_connection: Any) -> None:
    """setResourceRules holds the resource row FOR UPDATE while it changes the rules; a booking
    checked against the old rules waits at its commit, sees the new version and is refused."""
    room = await client.resource()
    assert (await book(client, room, at("07:00"), at("08:00"), "warm"))["error"] is None  # rules cached
    _, resource_id = parse_global_id(room, "id")
    closed = '{"weekly": [], "overrides": [], "bufferBefore": 0, "bufferAfter": 0, "minNotice": 0, ' \
             '"maxHorizonDays": null, "minDuration": null, "maxDuration": null, "step": null}'
    tx = admin_connection.transaction()
    await tx.start()
    await admin_connection.execute("SELECT 1 FROM resources WHERE id = $1 FOR UPDATE", resource_id)
    late = asyncio.create_task(book(client, room, at("09:00"), at("10:00"), "late"))
    await asyncio.sleep(0.3)
    assert not late.done(), "the booking's commit must wait for the rules change"
    await admin_connection.execute("UPDATE resources SET rules = CAST($2 AS jsonb), "
                                   "rules_version = rules_version + 1 WHERE id = $1", resource_id, closed)
    await tx.commit()
    answer = await asyncio.wait_for(late, 10)
    assert answer["booking"] is None
    assert answer["error"]["reason"] == "CLOSED"


async def test_a_rules_change_waits_for_a_booking_being_committed(client: Client, admin_connection: Any) -> None:
    room = await client.resource()
    _, resource_id = parse_global_id(room, "id")
    tx = admin_connection.transaction()
    await tx.start()
    await admin_connection.execute("SELECT 1 FROM resources WHERE id = $1 FOR KEY SHARE", resource_id)
    change = asyncio.create_task(set_rules(client, room, 0, office_hours()))
    await asyncio.sleep(0.3)
    assert not change.done(), "FOR UPDATE must wait for the booking's FOR KEY SHARE"
    await tx.commit()
    assert (await asyncio.wait_for(change, 10))["rules"]["version"] == 1
