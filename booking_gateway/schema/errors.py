"""Expected failures as data: the contract's ``MutationError`` interface and its types."""

from __future__ import annotations

from enum import Enum

import strawberry

from booking_gateway.domain import errors as domain
from booking_gateway.schema.types import TimeWindow


@strawberry.enum
class ErrorCode(Enum):
    SLOT_UNAVAILABLE = strawberry.enum_value("SLOT_UNAVAILABLE",
                                             description="The window overlaps a confirmed booking or a live hold.")
    VALIDATION_FAILED = strawberry.enum_value("VALIDATION_FAILED", description=(
        "The input breaks a rule (end <= start, missing offset, too long, unknown time zone...)."))
    CONTENDED = strawberry.enum_value("CONTENDED", description=(
        "Overlapping requests held the window longer than the wait allowed; safe to retry with "
        "the same clientMutationId."))
    IDEMPOTENCY_KEY_REUSED = strawberry.enum_value(
        "IDEMPOTENCY_KEY_REUSED", description="The clientMutationId was used before with a different input.")
    VERSION_CONFLICT = strawberry.enum_value("VERSION_CONFLICT", description="expectedVersion did not match.")
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description="No such object for this tenant.")
    HOLD_EXPIRED = strawberry.enum_value("HOLD_EXPIRED", description=(
        "confirmBooking of a hold that expired and whose window was taken since."))
    OUTSIDE_SCHEDULE = strawberry.enum_value("OUTSIDE_SCHEDULE", description=(
        "The resource's rules (opening hours, notice, horizon, durations, step) refuse the window."))


@strawberry.enum(description="Which of the resource's rules refused the window.")
class ScheduleReason(Enum):
    CLOSED = "CLOSED"
    TOO_SOON = "TOO_SOON"
    TOO_FAR = "TOO_FAR"
    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    OFF_STEP = "OFF_STEP"


@strawberry.interface
class MutationError:
    code: ErrorCode
    message: str


@strawberry.type
class SlotUnavailable(MutationError):
    conflicts: list[TimeWindow] = strawberry.field(
        description="The windows of the confirmed bookings and live holds that overlap the request.")


@strawberry.type
class ValidationFailed(MutationError):
    field: str | None = strawberry.field(description='The input field at fault, e.g. "end".')


@strawberry.type
class Contended(MutationError):
    retry_after_ms: int


@strawberry.type
class IdempotencyKeyReused(MutationError):
    pass


@strawberry.type
class VersionConflict(MutationError):
    current_version: int


@strawberry.type
class NotFound(MutationError):
    pass


@strawberry.type
class HoldExpired(MutationError):
    conflicts: list[TimeWindow] = strawberry.field(
        description="The bookings' and live holds' windows that took the expired hold's window.")


@strawberry.type
class OutsideSchedule(MutationError):
    reason: ScheduleReason
    nearest: list[TimeWindow] = strawberry.field(description=(
        "Up to three windows the rules allow, nearest to the request (other bookings not considered)."))


ERROR_TYPES = (SlotUnavailable, ValidationFailed, Contended, IdempotencyKeyReused, VersionConflict,
               NotFound, HoldExpired, OutsideSchedule)


def to_graphql(error: domain.DomainError, message: str | None = None) -> MutationError:
    """The one place where a domain error becomes its GraphQL payload type."""
    code = ErrorCode(error.code.value)
    text = message or error.message
    match error:
        case domain.SlotUnavailable():
            return SlotUnavailable(code=code, message=text,
                                   conflicts=[TimeWindow.of(w) for w in error.conflicts])
        case domain.ValidationFailed():
            return ValidationFailed(code=code, message=text, field=error.field)
        case domain.Contended():
            return Contended(code=code, message=text, retry_after_ms=error.retry_after_ms)
        case domain.IdempotencyKeyReused():
            return IdempotencyKeyReused(code=code, message=text)
        case domain.VersionConflict():
            return VersionConflict(code=code, message=text, current_version=error.current_version)
        case domain.NotFound():
            return NotFound(code=code, message=text)
        case domain.HoldExpired():
            return HoldExpired(code=code, message=text,
                               conflicts=[TimeWindow.of(w) for w in error.conflicts])
        case domain.OutsideSchedule():
            return OutsideSchedule(code=code, message=text, reason=ScheduleReason(error.reason),
                                   nearest=[TimeWindow.of(w) for w in error.nearest])
    raise TypeError(f"no GraphQL type for {type(error).__name__}")  # pragma: no cover
