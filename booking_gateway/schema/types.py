"""The contract's object types. Field resolvers delegate to :mod:`booking_gateway.resolvers`."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.types import Info

from booking_gateway.domain import model
from booking_gateway.domain.time_window import TimeWindow as DomainWindow
from booking_gateway.resolvers import fields
from booking_gateway.resolvers.context import Context
from booking_gateway.schema.ids import availability_id, to_global_id
from booking_gateway.schema.inputs import TimeWindowInput

if TYPE_CHECKING:
    from booking_gateway.schema.rules_types import ResourceRules


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    id: strawberry.ID


@strawberry.type(description="A half-open window [start, end) in UTC.")
class TimeWindow:
    start: datetime
    end: datetime

    @classmethod
    def of(cls, window: DomainWindow) -> TimeWindow:
        return cls(start=window.start, end=window.end)


@strawberry.enum
class BookingStatus(Enum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    HELD = strawberry.enum_value("held", description=(
        "A hold (holdSlot): blocks the window like a confirmed booking until expiresAt."))
    EXPIRED = strawberry.enum_value("expired", description=(
        "A hold past its expiresAt: the window is free again; confirmBooking may still take it."))
    RELEASED = strawberry.enum_value("released", description="A hold given back with releaseHold.")


@strawberry.type
class Availability:
    id: strawberry.ID = strawberry.field(description=(
        "The same for the same resource and window (not a Node id): lets a client cache key availability."))
    resource_id: strawberry.ID
    window: TimeWindow
    busy: list[TimeWindow] = strawberry.field(description="Merged, sorted, clipped to the window.")
    free: list[TimeWindow] = strawberry.field(description="The window minus busy, sorted.")
    version: int = strawberry.field(description=(
        "Monotonic per resource; grows with every committed change to its bookings. "
        "Read atomically with busy/free."))

    @classmethod
    def of(cls, availability: model.Availability) -> Availability:
        window = availability.window
        return cls(
            id=strawberry.ID(availability_id(availability.resource_id, window.start, window.end)),
            resource_id=strawberry.ID(to_global_id("Resource", availability.resource_id)),
            window=TimeWindow.of(availability.window),
            # the domain's windows have the same attributes: no copies of a long window's lists
            busy=cast(list[TimeWindow], list(availability.busy)),
            free=cast(list[TimeWindow], list(availability.free)),
            version=availability.version,
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Resource(Node):
    id: strawberry.ID
    name: str
    time_zone: str = strawberry.field(description="IANA time zone of the resource, e.g. Europe/Berlin.")
    domain: strawberry.Private[model.Resource]

    @classmethod
    def of(cls, resource: model.Resource) -> Resource:
        return cls(id=strawberry.ID(to_global_id("Resource", resource.id)), name=resource.name,
                   time_zone=resource.time_zone, domain=resource)

    @strawberry.field(description="Free/busy of this resource inside the window.")
    async def availability(self, info: Info[Context, None], window: TimeWindowInput) -> Availability:
        return Availability.of(await fields.resource_availability(info.context, self.domain, window))

    @strawberry.field(description="The resource's booking rules (read fresh, at one version).")
    async def rules(self, info: Info[Context, None]) -> Annotated[
            ResourceRules, strawberry.lazy("booking_gateway.schema.rules_types")]:
        from booking_gateway.resolvers.rules import resource_rules  # it imports this module

        return await resource_rules(info.context, self.domain)

    @strawberry.field
    async def bookings(self, info: Info[Context, None], window: TimeWindowInput | None = None,
                       status: BookingStatus | None = None, first: int | None = None,
                       after: str | None = None) -> BookingConnection:
        page, cursors = await fields.resource_bookings(
            info.context, self.domain, window, model.BookingStatus(status.value) if status else None,
            first, after)
        edges = [BookingEdge(cursor=c, node=Booking.of(b)) for b, c in zip(page.bookings, cursors,
                                                                           strict=True)]
        return BookingConnection(page_info=_page_info(cursors, page.has_next, after), edges=edges)


@strawberry.type
class Booking(Node):
    id: strawberry.ID
    start: datetime
    end: datetime
    status: BookingStatus
    version: int = strawberry.field(
        description="Optimistic-concurrency version of this booking; grows with every change.")
    reference: str | None = strawberry.field(
        description="The client's own reference (customer, order); opaque to the gateway.")
    note: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = strawberry.field(description=(
        "When a hold stops blocking its window (PostgreSQL's clock); null for a booking that "
        "was never a hold."))
    domain: strawberry.Private[model.Booking]

    @classmethod
    def of(cls, booking: model.Booking) -> Booking:
        return cls(
            id=strawberry.ID(to_global_id("Booking", booking.id)), start=booking.window.start,
            end=booking.window.end, status=BookingStatus(booking.status.value),
            version=booking.version, reference=booking.reference, note=booking.note,
            created_at=booking.created_at, updated_at=booking.updated_at,
            expires_at=booking.expires_at, domain=booking)

    @strawberry.field
    async def resource(self, info: Info[Context, None]) -> Resource:
        return Resource.of(await fields.booking_resource(info.context, self.domain))


@strawberry.type
class ResourceEdge:
    cursor: str
    node: Resource


@strawberry.type
class ResourceConnection:
    page_info: PageInfo
    edges: list[ResourceEdge]


@strawberry.type
class BookingEdge:
    cursor: str
    node: Booking


@strawberry.type
class BookingConnection:
    page_info: PageInfo
    edges: list[BookingEdge]


def _page_info(cursors: list[str], has_next: bool, after: str | None) -> PageInfo:
    return PageInfo(has_next_page=has_next, has_previous_page=after is not None,
                    start_cursor=cursors[0] if cursors else None,
                    end_cursor=cursors[-1] if cursors else None)


def resource_connection(resources: list[model.Resource], cursors: list[str], has_next: bool,
                        after: str | None) -> ResourceConnection:
    edges = [ResourceEdge(cursor=c, node=Resource.of(r)) for r, c in zip(resources, cursors, strict=True)]
    return ResourceConnection(page_info=_page_info(cursors, has_next, after), edges=edges)
