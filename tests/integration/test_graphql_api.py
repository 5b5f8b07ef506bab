"""The contract through ``schema.execute`` with the real adapters: payloads, errors as data,
idempotency, tenancy."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import pytest

from booking_gateway.app import Gateway
from booking_gateway.domain.outcome import Deps
from tests.integration.graphql_client import AVAILABILITY, CANCEL, RESCHEDULE, Client


@pytest.fixture
def client(deps: Deps, tenant_id: UUID) -> Client:
    return Client(deps, tenant_id)


async def test_book_replay_conflict_and_availability(client: Client) -> None:
    room = await client.resource()
    first = await client.book(room, "2027-01-04T09:00:00Z", "2027-01-04T10:30:00+00:00", "b-1",
                              reference="order-7")
    assert first["error"] is None
    assert first["replayed"] is False
    booking = first["booking"]
    assert booking["start"] == "2027-01-04T09:00:00.000000Z"
    assert booking["end"] == "2027-01-04T10:30:00.000000Z"
    assert booking["status"] == "CONFIRMED"
    assert booking["version"] == 1
    assert booking["reference"] == "order-7"
    assert booking["resource"]["id"] == room

    # the same instant written with another offset is the same input: a replay
    again = await client.book(room, "2027-01-04T10:00:00+01:00", "2027-01-04T10:30:00Z", "b-1",
                              reference="order-7")
    assert again["replayed"] is True
    assert again["booking"]["id"] == booking["id"]

    reused = await client.book(room, "2027-01-04T12:00:00Z", "2027-01-04T13:00:00Z", "b-1")
    assert reused["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert reused["booking"] is None

    clash = await client.book(room, "2027-01-04T10:00:00Z", "2027-01-04T11:00:00Z", "b-2")
    assert clash["error"]["code"] == "SLOT_UNAVAILABLE"
    assert clash["error"]["conflicts"] == [{"start": "2027-01-04T09:00:00.000000Z",
                                            "end": "2027-01-04T10:30:00.000000Z"}]
    replayed_clash = await client.book(room, "2027-01-04T10:00:00Z", "2027-01-04T11:00:00Z", "b-2")
    assert replayed_clash["replayed"] is True
    assert replayed_clash["error"] == clash["error"]

    adjacent = await client.book(room, "2027-01-04T10:30:00Z", "2027-01-04T11:00:00Z", "b-3")
    assert adjacent["error"] is None

    data = await client.execute(AVAILABILITY, ids=[room],
                                window={"start": "2027-01-04T08:00:00Z", "end": "2027-01-04T12:00:00Z"})
    [availability] = data["availability"]
    assert availability["busy"] == [{"start": "2027-01-04T09:00:00.000000Z", "end": "2027-01-04T11:00:00.000000Z"}]
    assert availability["free"] == [{"start": "2027-01-04T08:00:00.000000Z", "end": "2027-01-04T09:00:00.000000Z"},
                                    {"start": "2027-01-04T11:00:00.000000Z", "end": "2027-01-04T12:00:00.000000Z"}]
    assert availability["version"] == 2


async def test_cancel_and_reschedule_with_versions(client: Client) -> None:
    room = await client.resource()
    booking = (await client.book(room, "2027-01-05T09:00:00Z", "2027-01-05T10:00:00Z", "b"))["booking"]
    other = (await client.book(room, "2027-01-05T11:00:00Z", "2027-01-05T12:00:00Z", "o"))["booking"]

    stale = await client.execute(RESCHEDULE, input={
        "clientMutationId": "m0", "bookingId": booking["id"], "start": "2027-01-05T13:00:00Z",
        "end": "2027-01-05T14:00:00Z", "expectedVersion": 7})
    assert stale["rescheduleBooking"]["error"]["code"] == "VERSION_CONFLICT"
    assert stale["rescheduleBooking"]["error"]["currentVersion"] == 1

    blocked = await client.execute(RESCHEDULE, input={
        "clientMutationId": "m1", "bookingId": booking["id"], "start": "2027-01-05T09:30:00Z",
        "end": "2027-01-05T11:30:00Z", "expectedVersion": 1})
    assert blocked["rescheduleBooking"]["error"]["conflicts"] == [
        {"start": other["start"], "end": other["end"]}]

    moved = await client.execute(RESCHEDULE, input={
        "clientMutationId": "m2", "bookingId": booking["id"], "start": "2027-01-05T09:30:00Z",
        "end": "2027-01-05T11:00:00Z", "expectedVersion": 1})
    assert moved["rescheduleBooking"]["error"] is None
    assert moved["rescheduleBooking"]["booking"]["version"] == 2
    assert moved["rescheduleBooking"]["booking"]["end"] == "2027-01-05T11:00:00.000000Z"

    cancelled = await client.execute(CANCEL, input={"clientMutationId": "c1", "bookingId": booking["id"],
                                                    "expectedVersion": 2})
    assert cancelled["cancelBooking"]["booking"]["status"] == "CANCELLED"
    assert cancelled["cancelBooking"]["booking"]["version"] == 3
    replay = await client.execute(CANCEL, input={"clientMutationId": "c1", "bookingId": booking["id"],
                                                 "expectedVersion": 2})
    assert replay["cancelBooking"]["replayed"] is True
    assert replay["cancelBooking"]["error"] is None

    # the freed window can be booked again
    rebook = await client.book(room, "2027-01-05T09:00:00Z", "2027-01-05T11:00:00Z", "b2")
    assert rebook["error"] is None


@pytest.mark.parametrize(("start", "end", "field"), [
    ("2027-01-05T09:00:00", "2027-01-05T10:00:00Z", "start"),
    ("2027-01-05T09:00:00Z", "2027-01-05T10:00:00", "end"),
    ("2027-01-05T10:00:00Z", "2027-01-05T10:00:00Z", "end"),
    ("2027-01-05T10:00:00Z", "2027-01-05T09:00:00Z", "end"),
    ("2027-01-05T10:00:00Z", "2027-03-05T09:00:00Z", "end"),
])
async def test_bad_windows_are_validation_failures_that_write_nothing(
        client: Client, admin_connection: asyncpg.Connection, start: str, end: str, field: str) -> None:
    room = await client.resource()
    result = await client.book(room, start, end, f"bad-{field}")
    assert result["error"]["code"] == "VALIDATION_FAILED"
    assert result["error"]["field"] == field
    assert result["booking"] is None
    rows = await admin_connection.fetchval(
        "SELECT count(*) FROM idempotency_records WHERE tenant_id = $1 AND mutation = 'bookSlot'",
        client.tenant_id)
    assert rows == 0


async def test_unknown_time_zone_and_blank_name(client: Client) -> None:
    from tests.integration.graphql_client import CREATE_RESOURCE

    bad_zone = await client.execute(CREATE_RESOURCE, input={"clientMutationId": "z", "name": "R",
                                                             "timeZone": "Mars/Olympus"})
    assert bad_zone["createResource"]["error"]["field"] == "timeZone"
    blank = await client.execute(CREATE_RESOURCE, input={"clientMutationId": "n", "name": "  "})
    assert blank["createResource"]["error"]["field"] == "name"


async def test_other_tenants_objects_are_not_found(deps: Deps, client: Client, gateway: Gateway) -> None:
    from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory

    room = await client.resource()
    booking = (await client.book(room, "2027-01-06T09:00:00Z", "2027-01-06T10:00:00Z", "b"))["booking"]
    stranger_tenant = await PostgresTenantDirectory(gateway.engine).create_tenant(f"stranger-{room[-8:]}")
    stranger = Client(deps, stranger_tenant.id)

    data = await stranger.execute(
        "query($r: ID!, $b: ID!) { resource(id: $r) { id } booking(id: $b) { id } "
        "n1: node(id: $r) { id } n2: node(id: $b) { id } }", r=room, b=booking["id"])
    assert data == {"resource": None, "booking": None, "n1": None, "n2": None}
    book = await stranger.book(room, "2027-01-06T11:00:00Z", "2027-01-06T12:00:00Z", "x")
    assert book["error"]["code"] == "NOT_FOUND"
    assert room in book["error"]["message"]
    cancel = await stranger.execute(CANCEL, input={"clientMutationId": "c", "bookingId": booking["id"]})
    assert cancel["cancelBooking"]["error"]["code"] == "NOT_FOUND"
    errors = await stranger.errors(AVAILABILITY, ids=[room], window={
        "start": "2027-01-06T00:00:00Z", "end": "2027-01-07T00:00:00Z"})
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    # and the owner's booking is untouched
    mine = await client.execute("query($b: ID!) { booking(id: $b) { status version } }", b=booking["id"])
    assert mine["booking"] == {"status": "CONFIRMED", "version": 1}


async def test_malformed_ids_name_the_field(client: Client) -> None:
    result = await client.book("not-an-id", "2027-01-06T09:00:00Z", "2027-01-06T10:00:00Z", "m")
    assert result["error"]["code"] == "VALIDATION_FAILED"
    assert result["error"]["field"] == "resourceId"


async def test_resources_and_bookings_connections_page(client: Client) -> None:
    rooms = sorted([await client.resource(f"Room {i}") for i in range(3)])
    page = await client.execute("{ resources(first: 2) { pageInfo { hasNextPage endCursor } "
                                "edges { node { id } } } }")
    conn = page["resources"]
    assert conn["pageInfo"]["hasNextPage"] is True
    rest = await client.execute("query($a: String) { resources(first: 5, after: $a) { pageInfo "
                                "{ hasNextPage } edges { node { id } } } }", a=conn["pageInfo"]["endCursor"])
    ids = [e["node"]["id"] for e in conn["edges"]] + [e["node"]["id"] for e in rest["resources"]["edges"]]
    assert sorted(ids) == rooms
    assert rest["resources"]["pageInfo"]["hasNextPage"] is False

    room = rooms[0]
    for hour in (9, 11, 13):
        await client.book(room, f"2027-01-07T{hour:02d}:00:00Z", f"2027-01-07T{hour:02d}:30:00Z", f"h{hour}")
    data = await client.execute(
        "query($r: ID!, $w: TimeWindowInput) { resource(id: $r) { bookings(window: $w, first: 2, "
        "status: CONFIRMED) { pageInfo { hasNextPage } edges { node { start } } } } }",
        r=room, w={"start": "2027-01-07T10:00:00Z", "end": "2027-01-08T00:00:00Z"})
    bookings = data["resource"]["bookings"]
    assert [e["node"]["start"] for e in bookings["edges"]] == ["2027-01-07T11:00:00.000000Z",
                                                               "2027-01-07T13:00:00.000000Z"]
    assert bookings["pageInfo"]["hasNextPage"] is False
