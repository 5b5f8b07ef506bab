"""Resolvers of object fields: Resource.availability, Resource.bookings, Booking.resource."""

from __future__ import annotations

from booking_gateway.domain import model, queries
from booking_gateway.domain.errors import DomainError
from booking_gateway.domain.ports import BookingFilter, BookingPage
from booking_gateway.domain.rules import check_page_size
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.resolvers.context import Context
from booking_gateway.resolvers.cursors import booking_cursor, parse_booking_cursor
from booking_gateway.resolvers.graphql_errors import query_error
from booking_gateway.schema.inputs import TimeWindowInput


def window_of(value: TimeWindowInput, field: str = "window") -> TimeWindow:
    return TimeWindow.of(value.start, value.end, start_field=f"{field}.start", end_field=f"{field}.end")


async def resource_availability(ctx: Context, resource: model.Resource,
                                window: TimeWindowInput) -> model.Availability:
    try:
        found = await queries.availability(ctx.deps, ctx.tenant_id, [resource.id], window_of(window))
    except DomainError as err:
        raise query_error(err) from None
    return found[0]


async def resource_bookings(ctx: Context, resource: model.Resource, window: TimeWindowInput | None,
                            status: model.BookingStatus | None, first: int | None,
                            after: str | None) -> tuple[BookingPage, list[str]]:
    try:
        query = BookingFilter(
            tenant_id=ctx.tenant_id, resource_id=resource.id,
            window=window_of(window) if window else None, status=status,
            after=parse_booking_cursor(after), limit=check_page_size(first, ctx.deps.limits))
    except DomainError as err:
        raise query_error(err) from None
    page = await ctx.deps.store.list_bookings(query)
    return page, [booking_cursor(b.window.start, b.id) for b in page.bookings]


async def booking_resource(ctx: Context, booking: model.Booking) -> model.Resource:
    resource = await ctx.resource_loader.load(booking.resource_id)
    if resource is None:  # pragma: no cover - a booking's resource is the tenant's and never deleted
        raise RuntimeError(f"resource {booking.resource_id} of booking {booking.id} not found")
    return resource
