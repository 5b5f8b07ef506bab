"""Instants outside the supported range (issue 12's probe) through GraphQL against the real
PostgreSQL and Redis: each is VALIDATION_FAILED naming its field, never INTERNAL, and nothing
is written."""

from __future__ import annotations

import base64
import uuid
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from booking_gateway.domain.outcome import Deps
from tests.integration.graphql_client import AVAILABILITY, CANCEL, RESCHEDULE, Client

BOOKINGS = """
query($r: ID!, $w: TimeWindowInput, $a: String) {
  resource(id: $r) { bookings(window: $w, after: $a) { edges { cursor node { start } } } }
}"""


@pytest.fixture
def client(deps: Deps, tenant_id: UUID) -> Client:
    return Client(deps, tenant_id)


async def _written(conn: asyncpg.Connection, tenant_id: UUID) -> tuple[int, int]:
    """(bookings, idempotency records) of the tenant."""
    bookings = await conn.fetchval("SELECT count(*) FROM bookings WHERE tenant_id = $1", tenant_id)
    records = await conn.fetchval("SELECT count(*) FROM idempotency_records WHERE tenant_id = $1 "
                                  "AND mutation <> 'createResource'", tenant_id)
    return int(bookings), int(records)


def _refused(errors: list[dict[str, Any]], field: str) -> None:
    assert len(errors) == 1, errors
    assert errors[0]["extensions"] == {"code": "VALIDATION_FAILED", "field": field}, errors
    assert "1970-01-01T00:00:00Z" in errors[0]["message"], errors


@pytest.mark.parametrize(("start", "end", "field"), [
    ("0001-01-01T00:00:00Z", "0001-01-01T01:00:00Z", "start"),
    ("9999-12-31T00:00:00Z", "9999-12-31T23:59:59.999999Z", "start"),
    ("0001-01-01T00:00:00+01:00", "0001-01-01T05:00:00+01:00", "start"),  # before year 1 in UTC
    ("9999-12-31T23:00:00-01:00", "9999-12-31T23:59:59-01:00", "start"),  # after 9999 in UTC
    ("1969-12-31T23:00:00Z", "1970-01-01T01:00:00Z", "start"),
    ("8999-12-31T23:00:00Z", "9000-01-01T00:00:00Z", "end"),
])
async def test_book_slot_outside_the_range_is_refused_and_writes_nothing(
        client: Client, admin_connection: asyncpg.Connection, start: str, end: str, field: str) -> None:
    room = await client.resource()
    before = await _written(admin_connection, client.tenant_id)
    result = await client.book(room, start, end, f"far-{start}")
    assert result["booking"] is None
    assert result["error"]["code"] == "VALIDATION_FAILED"
    assert result["error"]["field"] == field
    assert "9000-01-01T00:00:00Z" in result["error"]["message"]
    assert await _written(admin_connection, client.tenant_id) == before


async def test_the_edges_of_the_range_are_booked_read_and_cancelled(client: Client) -> None:
    room = await client.resource()
    first = await client.book(room, "1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z", "edge-1")
    last = await client.book(room, "8999-12-31T23:00:00Z", "8999-12-31T23:59:59.999999Z", "edge-2")
    assert first["error"] is None
    assert last["error"] is None
    assert last["booking"]["end"] == "8999-12-31T23:59:59.999999Z"
    data = await client.execute(BOOKINGS, r=room)
    assert [e["node"]["start"] for e in data["resource"]["bookings"]["edges"]] == [
        "1970-01-01T00:00:00.000000Z", "8999-12-31T23:00:00.000000Z"]
    for booking in (first["booking"], last["booking"]):
        cancelled = await client.execute(CANCEL, input={"clientMutationId": f"c-{booking['id']}",
                                                        "bookingId": booking["id"]})
        assert cancelled["cancelBooking"]["booking"]["status"] == "CANCELLED"


async def test_reschedule_outside_the_range_is_refused(client: Client) -> None:
    room = await client.resource()
    booking = (await client.book(room, "2027-02-01T09:00:00Z", "2027-02-01T10:00:00Z", "r"))["booking"]
    moved = await client.execute(RESCHEDULE, input={
        "clientMutationId": "r-far", "bookingId": booking["id"], "start": "9999-12-31T09:00:00Z",
        "end": "9999-12-31T10:00:00Z"})
    assert moved["rescheduleBooking"]["error"]["field"] == "start"
    assert moved["rescheduleBooking"]["error"]["code"] == "VALIDATION_FAILED"
    still = await client.execute("query($b: ID!) { booking(id: $b) { start version } }", b=booking["id"])
    assert still["booking"] == {"start": "2027-02-01T09:00:00.000000Z", "version": 1}


@pytest.mark.parametrize(("window", "field"), [
    ({"start": "9999-12-31T00:00:00Z", "end": "9999-12-31T23:59:59.999999Z"}, "window.start"),
    ({"start": "8999-12-31T00:00:00Z", "end": "9999-12-31T23:59:59.999999Z"}, "window.end"),
    ({"start": "8999-12-01T00:00:00Z", "end": "9000-01-01T00:00:01Z"}, "window.end"),
    ({"start": "0001-01-01T00:00:00+01:00", "end": "0001-01-02T00:00:00Z"}, "window.start"),
    ({"start": "9999-12-31T23:00:00-01:00", "end": "9999-12-31T23:59:59-01:00"}, "window.start"),
])
async def test_availability_windows_outside_the_range_are_refused(
        client: Client, window: dict[str, str], field: str) -> None:
    room = await client.resource()
    _refused(await client.errors(AVAILABILITY, ids=[room], window=window), field)
    _refused(await client.errors("query($r: ID!, $w: TimeWindowInput!) { resource(id: $r) "
                                 "{ availability(window: $w) { version } } }", r=room, w=window), field)
    _refused(await client.errors(BOOKINGS, r=room, w=window), field)


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("instant", [
    "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59.999999+00:00",
    "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59+00:00", "9000-01-01T00:00:00+00:00",
])
async def test_cursors_outside_the_range_are_refused(client: Client, instant: str) -> None:
    room = await client.resource()
    await client.book(room, "2027-02-02T09:00:00Z", "2027-02-02T10:00:00Z", "c")
    _refused(await client.errors(BOOKINGS, r=room, a=_cursor(f"b:{instant}|{uuid.uuid4()}")), "after")


async def test_cursors_this_api_issued_still_page(client: Client) -> None:
    room = await client.resource()
    for hour in (9, 11):
        await client.book(room, f"2027-02-03T{hour:02d}:00:00Z", f"2027-02-03T{hour:02d}:30:00Z", f"p{hour}")
    first = await client.execute(BOOKINGS, r=room)
    cursor = first["resource"]["bookings"]["edges"][0]["cursor"]
    rest = await client.execute(BOOKINGS, r=room, a=cursor)
    assert [e["node"]["start"] for e in rest["resource"]["bookings"]["edges"]] == ["2027-02-03T11:00:00.000000Z"]
