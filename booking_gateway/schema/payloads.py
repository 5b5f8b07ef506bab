"""The mutation payloads: the object, whether it was replayed, or an error as data."""

from __future__ import annotations

import strawberry

from booking_gateway.schema.errors import MutationError
from booking_gateway.schema.types import Booking, Resource


@strawberry.type
class CreateResourcePayload:
    client_mutation_id: str
    resource: Resource | None
    replayed: bool
    error: MutationError | None


@strawberry.type
class BookSlotPayload:
    client_mutation_id: str
    booking: Booking | None = strawberry.field(
        description="The confirmed booking; on a replay, the booking the first request made.")
    replayed: bool
    error: MutationError | None


@strawberry.type
class CancelBookingPayload:
    client_mutation_id: str
    booking: Booking | None
    replayed: bool
    error: MutationError | None


@strawberry.type
class RescheduleBookingPayload:
    client_mutation_id: str
    booking: Booking | None
    replayed: bool
    error: MutationError | None


@strawberry.type
class HoldSlotPayload:
    client_mutation_id: str
    booking: Booking | None = strawberry.field(
        description="The hold (status HELD, expiresAt); on a replay, as it is now.")
    replayed: bool
    error: MutationError | None


@strawberry.type
class ConfirmBookingPayload:
    client_mutation_id: str
    booking: Booking | None
    replayed: bool
    error: MutationError | None


@strawberry.type
class ReleaseHoldPayload:
    client_mutation_id: str
    booking: Booking | None
    replayed: bool
    error: MutationError | None
