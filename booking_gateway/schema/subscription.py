"""The root Subscription type and its payloads, AvailabilityChange and BookableSlotsChange."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from enum import Enum

import strawberry
from strawberry.types import Info

from booking_gateway.live.routing import LiveEvent
from booking_gateway.resolvers import slot_subscriptions, subscriptions
from booking_gateway.resolvers.context import Context
from booking_gateway.schema.ids import to_global_id
from booking_gateway.schema.inputs import TimeWindowInput
from booking_gateway.schema.rules_types import BookableSlots
from booking_gateway.schema.types import Availability, TimeWindow


@strawberry.enum(description="Why an AvailabilityChange or a BookableSlotsChange was sent.")
class ChangeReason(Enum):
    SNAPSHOT = "SNAPSHOT"
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    RESCHEDULED = "RESCHEDULED"
    HELD = "HELD"
    CONFIRMED = "CONFIRMED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"
    RULES_CHANGED = strawberry.enum_value("RULES_CHANGED", description="The resource's rules changed.")


@strawberry.type
class AvailabilityChange:
    resource_id: strawberry.ID
    reason: ChangeReason
    changed: TimeWindow = strawberry.field(
        description="The part of the subscribed window that changed (the whole window for SNAPSHOT).")
    availability: Availability
    #: Execution results for the subscribers this same event goes to (see fastpath.execution).
    shared_results: strawberry.Private[dict[str, object]]

    @classmethod
    def of(cls, event: LiveEvent) -> AvailabilityChange:
        """One object per event, shared by every subscriber it is sent to."""
        made = event.shared.get("graphql")
        if not isinstance(made, AvailabilityChange):
            made = event.shared["graphql"] = cls(
                resource_id=strawberry.ID(to_global_id("Resource", event.resource_id)),
                reason=ChangeReason(event.reason.value), changed=TimeWindow.of(event.changed),
                availability=Availability.of(event.availability), shared_results={})
        return made


@strawberry.type
class BookableSlotsChange:
    resource_id: strawberry.ID
    reason: ChangeReason = strawberry.field(
        description="SNAPSHOT first; later, the newest change among those the starts reflect.")
    slots: BookableSlots
    #: Execution results for the subscribers this same event goes to (see fastpath.execution).
    shared_results: strawberry.Private[dict[str, object]]

    @classmethod
    def of(cls, event: LiveEvent) -> BookableSlotsChange:
        """One object per event, shared by every subscriber it is sent to."""
        made = event.shared.get("graphql")
        if not isinstance(made, BookableSlotsChange):
            made = event.shared["graphql"] = cls(
                resource_id=strawberry.ID(to_global_id("Resource", event.resource_id)),
                reason=ChangeReason(event.reason.value), slots=BookableSlots.of(event.slots),
                shared_results={})
        return made


@strawberry.type
class Subscription:
    @strawberry.subscription(description=(
        "Live availability. The first event is a SNAPSHOT of the window; each later\n"
        "event is sent after a committed change that touches the window, and carries\n"
        "the fresh availability of the whole window. Events of one resource arrive in\n"
        "version order; a client keeps the highest version it has seen."))
    async def availability_changed(self, info: Info[Context, None], resource_ids: list[strawberry.ID],
                                   window: TimeWindowInput) -> AsyncGenerator[AvailabilityChange, None]:
        async for event in subscriptions.availability_changed(info.context, resource_ids, window):
            yield AvailabilityChange.of(event)

    @strawberry.subscription(description=(
        "Live bookable slots: per resource, the starts bookableSlots would answer. The first\n"
        "event is a SNAPSHOT; each later one is sent when a committed change (bookings, holds,\n"
        "rules) moved the starts of the window, read at one version. Events of one resource\n"
        "arrive in version order; a change that moves no start sends nothing."))
    async def bookable_slots_changed(self, info: Info[Context, None], resource_ids: list[strawberry.ID],
                                     window: TimeWindowInput, duration_minutes: int,
                                     step_minutes: int | None = None) -> AsyncGenerator[BookableSlotsChange, None]:
        async for event in slot_subscriptions.bookable_slots_changed(
                info.context, resource_ids, window, duration_minutes, step_minutes):
            yield BookableSlotsChange.of(event)
