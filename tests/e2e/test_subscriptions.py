"""Live availability end to end: two gateway processes, real WebSocket clients, both protocols."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from booking_gateway.live.wsclient import LEGACY_WS, TRANSPORT_WS, ConnectionRefused, GraphQLWebSocket
from tests.e2e.servers import GatewayProcess, create_tenant, graphql
from tests.e2e.test_two_gateways import book, make_room
from tests.integration.graphql_client import AVAILABILITY, CANCEL, RESCHEDULE
from tests.invariants import Window

DAY = datetime(2027, 9, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def span(start_h: float, end_h: float) -> dict[str, str]:
    return {"start": at(start_h).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "end": at(end_h).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}


@asynccontextmanager
async def subscribed(gateway: GatewayProcess, key: str, room: str, window: dict[str, str],
                     protocol: str = TRANSPORT_WS) -> AsyncIterator[tuple[GraphQLWebSocket, dict[str, Any]]]:
    """A subscription and its first event, which must be the SNAPSHOT of the whole window."""
    async with GraphQLWebSocket.connect(gateway.url, key, protocol=protocol) as ws:
        await ws.subscribe(ids=[room], window=window)
        snapshot = await next_change(ws)
        assert snapshot["reason"] == "SNAPSHOT"
        assert snapshot["changed"] == window
        yield ws, snapshot


async def next_change(ws: GraphQLWebSocket) -> dict[str, Any]:
    message = await ws.receive()
    assert message.type == "next", message
    assert "errors" not in message.payload, message.payload
    change: dict[str, Any] = message.payload["data"]["availabilityChanged"]
    return change


async def test_a_subscriber_on_b_sees_a_booking_made_through_a(
        two_gateways: list[GatewayProcess], api_key: str) -> None:
    a, b = two_gateways
    async with httpx.AsyncClient(timeout=30) as http:
        room = await make_room(http, a, api_key, "Live room")
        async with subscribed(b, api_key, room, span(0, 24)) as (ws, snapshot):
            assert snapshot["availability"]["busy"] == []
            answer = await book(http, a, api_key, room, Window(at(9), at(10)), "live-1")
            assert answer["error"] is None
            change = await next_change(ws)
            truth = (await graphql(http, b.url, api_key, AVAILABILITY, ids=[room], window=span(0, 24)))
    assert change["reason"] == "BOOKED"
    assert change["resourceId"] == room
    assert change["changed"] == span(9, 10)
    assert change["availability"]["busy"] == [span(9, 10)]
    assert change["availability"]["version"] > snapshot["availability"]["version"]
    assert change["availability"] == truth["availability"][0]


async def test_changes_outside_the_window_send_nothing(two_gateways: list[GatewayProcess], api_key: str) -> None:
    a, b = two_gateways
    async with httpx.AsyncClient(timeout=30) as http:
        room = await make_room(http, a, api_key, "Morning room")
        async with subscribed(b, api_key, room, span(8, 12)) as (ws, _):
            for i, (start, end) in enumerate([(18, 19), (6, 7.5), (12, 13)]):  # evening, before, just after
                assert (await book(http, a, api_key, room, Window(at(start), at(end)), f"out-{i}"))["error"] is None
            assert (await book(http, a, api_key, room, Window(at(7.5), at(9)), "in"))["error"] is None
            change = await next_change(ws)
    assert change["reason"] == "BOOKED"
    assert change["changed"] == span(8, 9), "the part of the subscribed window that changed"
    assert change["availability"]["busy"] == [span(8, 9)]
    assert change["availability"]["window"] == span(8, 12)


async def test_cancel_and_reschedule_send_their_reasons_in_version_order(
        two_gateways: list[GatewayProcess], api_key: str) -> None:
    a, b = two_gateways
    async with httpx.AsyncClient(timeout=30) as http:
        room = await make_room(http, a, api_key, "Changing room")
        async with subscribed(b, api_key, room, span(0, 12)) as (ws, snapshot):
            first = await book(http, a, api_key, room, Window(at(9), at(10)), "chg-1")
            booked = await next_change(ws)
            booking = first["booking"]["id"]  # type: ignore[index]
            moved = await graphql(http, a.url, api_key, RESCHEDULE, input={
                "clientMutationId": "chg-2", "bookingId": booking, **span(11, 13)})
            assert moved["rescheduleBooking"]["error"] is None
            rescheduled = await next_change(ws)
            cancelled_answer = await graphql(http, b.url, api_key, CANCEL, input={
                "clientMutationId": "chg-3", "bookingId": booking})
            assert cancelled_answer["cancelBooking"]["error"] is None
            cancelled = await next_change(ws)
    assert [c["reason"] for c in (booked, rescheduled, cancelled)] == ["BOOKED", "RESCHEDULED", "CANCELLED"]
    assert rescheduled["changed"] == span(9, 12), "old and new window, clipped to the subscribed one"
    assert rescheduled["availability"]["busy"] == [span(11, 12)]
    assert cancelled["changed"] == span(11, 12)
    assert cancelled["availability"]["busy"] == []
    versions = [c["availability"]["version"] for c in (snapshot, booked, rescheduled, cancelled)]
    assert versions == sorted(set(versions))


async def test_the_legacy_graphql_ws_protocol_works_too(
        two_gateways: list[GatewayProcess], api_key: str) -> None:
    a, b = two_gateways
    async with httpx.AsyncClient(timeout=30) as http:
        room = await make_room(http, a, api_key, "Legacy room")
        async with subscribed(b, api_key, room, span(0, 24), protocol=LEGACY_WS) as (ws, _):
            assert (await book(http, a, api_key, room, Window(at(14), at(15)), "legacy"))["error"] is None
            change = await next_change(ws)
    assert (change["reason"], change["changed"]) == ("BOOKED", span(14, 15))


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
@pytest.mark.parametrize(("payload", "reason"), [
    ({"authorization": "Bearer bgk_not_a_key"}, "invalid or revoked API key"),
    ({"authorization": "Basic dXNlcjpwYXNz"}, "missing API key"),
    ({}, "missing API key"),
])
async def test_a_missing_or_bad_key_closes_the_socket_with_4403(
        two_gateways: list[GatewayProcess], protocol: str, payload: dict[str, str], reason: str) -> None:
    with pytest.raises(ConnectionRefused) as refused:
        async with GraphQLWebSocket.connect(two_gateways[1].url, None, protocol=protocol, payload=payload):
            pass
    assert refused.value.code == 4403
    assert reason in refused.value.reason


async def test_another_tenants_resource_yields_an_error_never_data(
        two_gateways: list[GatewayProcess], api_key: str, gateway_env: dict[str, str]) -> None:
    a, b = two_gateways
    stranger = create_tenant(f"stranger-{secrets.token_hex(4)}", gateway_env)
    async with httpx.AsyncClient(timeout=30) as http:
        room = await make_room(http, a, api_key, "Private room")
        async with GraphQLWebSocket.connect(b.url, stranger) as ws:
            await ws.subscribe(ids=[room], window=span(0, 24))
            refused = await ws.receive()
            assert (await book(http, a, api_key, room, Window(at(16), at(17)), "private"))["error"] is None
            after = await ws.receive()
    assert refused.type == "next"
    assert refused.payload["data"] is None
    assert refused.payload["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert after.type == "complete", "the subscription ended; the booking was never sent"
