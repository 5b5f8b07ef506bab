"""The root Query type."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from booking_gateway.domain import model
from booking_gateway.resolvers import queries, rules
from booking_gateway.resolvers.context import Context
from booking_gateway.schema.inputs import TimeWindowInput
from booking_gateway.schema.rules_types import BookableSlots
from booking_gateway.schema.types import (
    Availability,
    Booking,
    Node,
    Resource,
    ResourceConnection,
    resource_connection,
)


@strawberry.type
class Query:
    @strawberry.field
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        found = await queries.node(info.context, id)
        if found is None:
            return None
        return Resource.of(found) if isinstance(found, model.Resource) else Booking.of(found)

    @strawberry.field
    async def resource(self, info: Info[Context, None], id: strawberry.ID) -> Resource | None:
        found = await queries.resource(info.context, id)
        return Resource.of(found) if found else None

    @strawberry.field
    async def resources(self, info: Info[Context, None], first: int | None = None,
                        after: str | None = None) -> ResourceConnection:
        page, cursors = await queries.resources(info.context, first, after)
        return resource_connection(page.resources, cursors, page.has_next, after)

    @strawberry.field
    async def booking(self, info: Info[Context, None], id: strawberry.ID) -> Booking | None:
        found = await queries.booking(info.context, id)
        return Booking.of(found) if found else None

    @strawberry.field(description="Free/busy of several resources at once (a grid of rooms, say).")
    async def availability(self, info: Info[Context, None], resource_ids: list[strawberry.ID],
                           window: TimeWindowInput) -> list[Availability]:
        return [Availability.of(a) for a in await queries.availability(info.context, resource_ids, window)]

    @strawberry.field(description=(
        "Per resource, the starts in the window that a bookSlot of durationMinutes would accept "
        "now (rules, buffers, bookings), each resource read at one version. stepMinutes defaults "
        "to the resource's slot step, else 15."))
    async def bookable_slots(self, info: Info[Context, None], resource_ids: list[strawberry.ID],
                             window: TimeWindowInput, duration_minutes: int,
                             step_minutes: int | None = None) -> list[BookableSlots]:
        found = await rules.slots(info.context, resource_ids, window, duration_minutes, step_minutes)
        return [BookableSlots.of(s) for s in found]
