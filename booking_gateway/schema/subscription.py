"""The root Subscription type and its payload, AvailabilityChange."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from enum import Enum

import strawberry
from strawberry.types import Info

from booking_gateway.live.routing import LiveEvent
from booking_gateway.resolvers import subscriptions
from booking_gateway.resolvers.context import Context
from booking_gateway.schema.ids import to_global_id
from booking_gateway.schema.inputs import TimeWindowInput
from booking_gateway.schema.types import Availability, TimeWindow


@strawberry.enum(description="Why an AvailabilityChange was sent.")
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
