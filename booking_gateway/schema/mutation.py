"""The root Mutation type: every mutation is idempotent on its clientMutationId."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from booking_gateway.resolvers import mutations, rules
from booking_gateway.resolvers.context import Context
from booking_gateway.schema.inputs import (
    BookSlotInput,
    CancelBookingInput,
    ConfirmBookingInput,
    CreateResourceInput,
    HoldSlotInput,
    ReleaseHoldInput,
    RescheduleBookingInput,
)
from booking_gateway.schema.payloads import (
    BookSlotPayload,
    CancelBookingPayload,
    ConfirmBookingPayload,
    CreateResourcePayload,
    HoldSlotPayload,
    ReleaseHoldPayload,
    RescheduleBookingPayload,
)
from booking_gateway.schema.rules_types import SetResourceRulesInput, SetResourceRulesPayload


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_resource(self, info: Info[Context, None],
                              input: CreateResourceInput) -> CreateResourcePayload:
        return await mutations.create_resource(info.context, input)

    @strawberry.mutation
    async def book_slot(self, info: Info[Context, None], input: BookSlotInput) -> BookSlotPayload:
        return await mutations.book_slot(info.context, input)

    @strawberry.mutation
    async def cancel_booking(self, info: Info[Context, None],
                             input: CancelBookingInput) -> CancelBookingPayload:
        return await mutations.cancel_booking(info.context, input)

    @strawberry.mutation
    async def reschedule_booking(self, info: Info[Context, None],
                                 input: RescheduleBookingInput) -> RescheduleBookingPayload:
        return await mutations.reschedule_booking(info.context, input)

    @strawberry.mutation(description="Hold a window for ttlSeconds: it blocks everyone else "
                         "like a confirmed booking until confirmed, released or expired.")
    async def hold_slot(self, info: Info[Context, None], input: HoldSlotInput) -> HoldSlotPayload:
        return await mutations.hold_slot(info.context, input)

    @strawberry.mutation(description="Turn a hold into a confirmed booking (an expired one only "
                         "if its window is still free, else HOLD_EXPIRED).")
    async def confirm_booking(self, info: Info[Context, None],
                              input: ConfirmBookingInput) -> ConfirmBookingPayload:
        return await mutations.confirm_booking(info.context, input)

    @strawberry.mutation(description="Give a hold back: its window is free at once.")
    async def release_hold(self, info: Info[Context, None],
                           input: ReleaseHoldInput) -> ReleaseHoldPayload:
        return await mutations.release_hold(info.context, input)

    @strawberry.mutation(description=(
        "Replace a resource's rules (opening hours, overrides, buffers, notice, horizon, durations, "
        "step) if they are still at expectedVersion; bookings already made are kept."))
    async def set_resource_rules(self, info: Info[Context, None],
                                 input: SetResourceRulesInput) -> SetResourceRulesPayload:
        return await rules.set_rules(info.context, input)
