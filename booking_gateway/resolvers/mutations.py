"""Resolvers of the mutations: decode ids, call the use case, shape the payload."""

from __future__ import annotations

from booking_gateway.domain import book_slot as booking_uc
from booking_gateway.domain import change_booking, commands, holds, resources
from booking_gateway.domain.errors import DomainError, NotFound
from booking_gateway.domain.model import Booking as DomainBooking
from booking_gateway.domain.outcome import Outcome
from booking_gateway.resolvers.context import Context
from booking_gateway.schema import inputs, payloads
from booking_gateway.schema.errors import MutationError, to_graphql
from booking_gateway.schema.ids import expect_id
from booking_gateway.schema.types import Booking, Resource


def _error(error: DomainError | None, global_id: str) -> MutationError | None:
    if error is None:
        return None
    if isinstance(error, NotFound):
        return to_graphql(error, f"no {error.kind} with id {global_id} for this tenant")
    return to_graphql(error)


async def create_resource(ctx: Context, data: inputs.CreateResourceInput) -> payloads.CreateResourcePayload:
    outcome = await resources.create_resource(ctx.deps, commands.CreateResource(
        ctx.tenant_id, data.client_mutation_id, data.name, data.time_zone))
    return payloads.CreateResourcePayload(
        client_mutation_id=data.client_mutation_id,
        resource=Resource.of(outcome.value) if outcome.value else None,
        replayed=outcome.replayed, error=_error(outcome.error, ""))


async def book_slot(ctx: Context, data: inputs.BookSlotInput) -> payloads.BookSlotPayload:
    try:
        resource_id = expect_id(data.resource_id, "Resource", "resourceId")
        outcome: Outcome[DomainBooking] = Outcome(error=NotFound("Resource", None))
        if resource_id is not None:
            outcome = await booking_uc.book_slot(ctx.deps, commands.BookSlot(
                ctx.tenant_id, data.client_mutation_id, resource_id, data.start, data.end,
                data.reference, data.note))
    except DomainError as err:
        outcome = Outcome(error=err)
    booking, replayed, error = _booking_parts(outcome, data.resource_id)
    return payloads.BookSlotPayload(client_mutation_id=data.client_mutation_id, booking=booking,
                                    replayed=replayed, error=error)


async def cancel_booking(ctx: Context, data: inputs.CancelBookingInput) -> payloads.CancelBookingPayload:
    try:
        booking_id = expect_id(data.booking_id, "Booking", "bookingId")
        outcome: Outcome[DomainBooking] = Outcome(error=NotFound("Booking", None))
        if booking_id is not None:
            outcome = await change_booking.cancel_booking(ctx.deps, commands.CancelBooking(
                ctx.tenant_id, data.client_mutation_id, booking_id, data.expected_version))
    except DomainError as err:
        outcome = Outcome(error=err)
    booking, replayed, error = _booking_parts(outcome, data.booking_id)
    return payloads.CancelBookingPayload(client_mutation_id=data.client_mutation_id, booking=booking,
                                         replayed=replayed, error=error)


async def reschedule_booking(ctx: Context,
                             data: inputs.RescheduleBookingInput) -> payloads.RescheduleBookingPayload:
    try:
        booking_id = expect_id(data.booking_id, "Booking", "bookingId")
        outcome: Outcome[DomainBooking] = Outcome(error=NotFound("Booking", None))
        if booking_id is not None:
            outcome = await change_booking.reschedule_booking(ctx.deps, commands.RescheduleBooking(
                ctx.tenant_id, data.client_mutation_id, booking_id, data.start, data.end,
                data.expected_version))
    except DomainError as err:
        outcome = Outcome(error=err)
    booking, replayed, error = _booking_parts(outcome, data.booking_id)
    return payloads.RescheduleBookingPayload(client_mutation_id=data.client_mutation_id,
                                             booking=booking, replayed=replayed, error=error)


async def hold_slot(ctx: Context, data: inputs.HoldSlotInput) -> payloads.HoldSlotPayload:
    try:
        resource_id = expect_id(data.resource_id, "Resource", "resourceId")
        outcome: Outcome[DomainBooking] = Outcome(error=NotFound("Resource", None))
        if resource_id is not None:
            outcome = await holds.hold_slot(ctx.deps, commands.HoldSlot(
                ctx.tenant_id, data.client_mutation_id, resource_id, data.start, data.end,
                data.ttl_seconds, data.reference, data.note))
    except DomainError as err:
        outcome = Outcome(error=err)
    booking, replayed, error = _booking_parts(outcome, data.resource_id)
    return payloads.HoldSlotPayload(client_mutation_id=data.client_mutation_id, booking=booking,
                                    replayed=replayed, error=error)


async def confirm_booking(ctx: Context, data: inputs.ConfirmBookingInput) -> payloads.ConfirmBookingPayload:
    try:
        booking_id = expect_id(data.booking_id, "Booking", "bookingId")
        outcome: Outcome[DomainBooking] = Outcome(error=NotFound("Booking", None))
        if booking_id is not None:
            outcome = await holds.confirm_booking(ctx.deps, commands.ConfirmBooking(
                ctx.tenant_id, data.client_mutation_id, booking_id, data.expected_version))
    except DomainError as err:
        outcome = Outcome(error=err)
    booking, replayed, error = _booking_parts(outcome, data.booking_id)
    return payloads.ConfirmBookingPayload(client_mutation_id=data.client_mutation_id,
                                          booking=booking, replayed=replayed, error=error)


async def release_hold(ctx: Context, data: inputs.ReleaseHoldInput) -> payloads.ReleaseHoldPayload:
    try:
        booking_id = expect_id(data.booking_id, "Booking", "bookingId")
        outcome: Outcome[DomainBooking] = Outcome(error=NotFound("Booking", None))
        if booking_id is not None:
            outcome = await holds.release_hold(ctx.deps, commands.ReleaseHold(
                ctx.tenant_id, data.client_mutation_id, booking_id, data.expected_version))
    except DomainError as err:
        outcome = Outcome(error=err)
    booking, replayed, error = _booking_parts(outcome, data.booking_id)
    return payloads.ReleaseHoldPayload(client_mutation_id=data.client_mutation_id,
                                       booking=booking, replayed=replayed, error=error)


def _booking_parts(outcome: Outcome[DomainBooking],
                   global_id: str) -> tuple[Booking | None, bool, MutationError | None]:
    booking = Booking.of(outcome.value) if outcome.value else None
    return booking, outcome.replayed, _error(outcome.error, global_id)
