"""The contract's input types."""

from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.input
class TimeWindowInput:
    start: datetime
    end: datetime


@strawberry.input
class CreateResourceInput:
    client_mutation_id: str
    name: str
    time_zone: str = "UTC"


@strawberry.input
class BookSlotInput:
    client_mutation_id: str
    resource_id: strawberry.ID
    start: datetime
    end: datetime
    reference: str | None = None
    note: str | None = None


@strawberry.input
class CancelBookingInput:
    client_mutation_id: str
    booking_id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=None, description="If given and not the booking's current version: VERSION_CONFLICT.")


@strawberry.input
class RescheduleBookingInput:
    client_mutation_id: str
    booking_id: strawberry.ID
    start: datetime
    end: datetime
    expected_version: int | None = None
