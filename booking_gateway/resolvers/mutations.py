"""Resolvers of the mutations: decode ids, call the use case, shape the payload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

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
    booking, replayed, error = await _booking_change(data.resource_id, "Resource", "resourceId", lambda resource_id: (
        booking_uc.book_slot(ctx.deps, commands.BookSlot(
            ctx.tenant_id, data.client_mutation_id, resource_id, data.start, data.end, data.reference, data.note))))
    return payloads.BookSlotPayload(client_mutation_id=data.client_mutation_id, booking=booking,
                                    replayed=replayed, error=error)


async def cancel_booking(ctx: Context, data: inputs.CancelBookingInput) -> payloads.CancelBookingPayload:
    booking, replayed, error = await _booking_change(data.booking_id, "Booking", "bookingId", lambda booking_id: (
        change_booking.cancel_booking(ctx.deps, commands.CancelBooking(
            ctx.tenant_id, data.client_mutation_id, booking_id, data.expected_version))))
    return payloads.CancelBookingPayload(client_mutation_id=data.client_mutation_id, booking=booking,
                                         replayed=replayed, error=error)


async def reschedule_booking(ctx: Context,
                             data: inputs.RescheduleBookingInput) -> payloads.RescheduleBookingPayload:
    booking, replayed, error = await _booking_change(data.booking_id, "Booking", "bookingId", lambda booking_id: (
        change_booking.reschedule_booking(ctx.deps, commands.RescheduleBooking(
            ctx.tenant_id, data.client_mutation_id, booking_id, data.start, data.end, data.expected_version))))
    return payloads.RescheduleBookingPayload(client_mutation_id=data.client_mutation_id,
                                             booking=booking, replayed=replayed, error=error)


async def hold_slot(ctx: Context, data: inputs.HoldSlotInput) -> payloads.HoldSlotPayload:
    booking, replayed, error = await _booking_change(data.resource_id, "Resource", "resourceId", lambda resource_id: (
        holds.hold_slot(ctx.deps, commands.HoldSlot(
            ctx.tenant_id, data.client_mutation_id, resource_id, data.start, data.end, data.ttl_seconds,
            data.reference, data.note))))
    return payloads.HoldSlotPayload(client_mutation_id=data.client_mutation_id, booking=booking,
                                    replayed=replayed, error=error)


async def confirm_booking(ctx: Context, data: inputs.ConfirmBookingInput) -> payloads.ConfirmBookingPayload:
    booking, replayed, error = await _booking_change(data.booking_id, "Booking", "bookingId", lambda booking_id: (
        holds.confirm_booking(ctx.deps, commands.ConfirmBooking(
            ctx.tenant_id, data.client_mutation_id, booking_id, data.expected_version))))
    return payloads.ConfirmBookingPayload(client_mutation_id=data.client_mutation_id,
                                          booking=booking, replayed=replayed, error=error)


async def release_hold(ctx: Context, data: inputs.ReleaseHoldInput) -> payloads.ReleaseHoldPayload:
    booking, replayed, error = await _booking_change(data.booking_id, "Booking", "bookingId", lambda booking_id: (
        holds.release_hold(ctx.deps, commands.ReleaseHold(
            ctx.tenant_id, data.client_mutation_id, booking_id, data.expected_version))))
    return payloads.ReleaseHoldPayload(client_mutation_id=data.client_mutation_id,
                                       booking=booking, replayed=replayed, error=error)


async def _booking_change(global_id: str, kind: str, field: str,
                          run: Callable[[UUID], Awaitable[Outcome[DomainBooking]]],
                          ) -> tuple[Booking | None, bool, MutationError | None]:
    """Decode the id the mutation acts on, run its use case, and shape the parts of its booking
    payload: every expected failure (a malformed id included) is data, never a GraphQL error."""
    try:
        object_id = expect_id(global_id, kind, field)
        outcome: Outcome[DomainBooking] = (Outcome(error=NotFound(kind, None)) if object_id is None
                                           else await run(object_id))
    except DomainError as err:
        outcome = Outcome(error=err)
    return _booking_parts(outcome, global_id)


def _booking_parts(outcome: Outcome[DomainBooking],
                   global_id: str) -> tuple[Booking | None, bool, MutationError | None]:
    booking = Booking.of(outcome.value) if outcome.value else None
    return booking, outcome.replayed, _error(outcome.error, global_id)
