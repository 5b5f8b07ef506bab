"""The contract's input types.

They are flat (scalars only; DateTime and ID already coerced by graphql-core). :func:`flat_input`
marks them so: the fast path (:mod:`booking_gateway.fastpath.flat_inputs`) builds a marked class
straight from graphql-core's coerced values instead of Strawberry's generic conversion, which
resolves each field's type and name on every request. Without the fast path the mark does nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import strawberry

T = TypeVar("T", bound=type)

#: The classes marked with :func:`flat_input`.
FLAT_INPUTS: set[type] = set()


def flat_input(cls: T) -> T:
    """Mark ``cls`` (a Strawberry input of scalar fields only) for the fast path's direct coercion."""
    FLAT_INPUTS.add(cls)
    return cls


@flat_input
@strawberry.input
class TimeWindowInput:
    start: datetime
    end: datetime


@flat_input
@strawberry.input
class CreateResourceInput:
    client_mutation_id: str
    name: str
    time_zone: str = "UTC"


@flat_input
@strawberry.input
class BookSlotInput:
    client_mutation_id: str
    resource_id: strawberry.ID
    start: datetime
    end: datetime
    reference: str | None = None
    note: str | None = None


@flat_input
@strawberry.input
class CancelBookingInput:
    client_mutation_id: str
    booking_id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=None, description="If given and not the booking's current version: VERSION_CONFLICT.")


@flat_input
@strawberry.input
class RescheduleBookingInput:
    client_mutation_id: str
    booking_id: strawberry.ID
    start: datetime
    end: datetime
    expected_version: int | None = None


@flat_input
@strawberry.input
class HoldSlotInput:
    client_mutation_id: str
    resource_id: strawberry.ID
    start: datetime
    end: datetime
    ttl_seconds: int | None = strawberry.field(default=None, description=(
        "How long the hold blocks the window, 1 to BOOKING_MAX_HOLD_SECONDS (default 900); "
        "null: BOOKING_DEFAULT_HOLD_SECONDS (default 300)."))
    reference: str | None = None
    note: str | None = None


@flat_input
@strawberry.input
class ConfirmBookingInput:
    client_mutation_id: str
    booking_id: strawberry.ID
    expected_version: int = strawberry.field(
        description="The hold's version as last seen; any other: VERSION_CONFLICT.")


@flat_input
@strawberry.input
class ReleaseHoldInput:
    client_mutation_id: str
    booking_id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=None, description="If given and not the hold's current version: VERSION_CONFLICT.")
