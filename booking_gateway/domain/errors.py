"""Expected failures of the use cases, with the structured fields clients need.

They mirror the contract's ``MutationError`` types one to one; the resolvers map
them to GraphQL payloads in a single place. Unexpected exceptions are not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uuid import UUID

    from booking_gateway.domain.time_window import TimeWindow


class ErrorCode(StrEnum):
    SLOT_UNAVAILABLE = "SLOT_UNAVAILABLE"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    CONTENDED = "CONTENDED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    NOT_FOUND = "NOT_FOUND"
    HOLD_EXPIRED = "HOLD_EXPIRED"
    OUTSIDE_SCHEDULE = "OUTSIDE_SCHEDULE"


class DomainError(Exception):
    """Base of every expected failure; ``message`` is safe to show to a client."""

    code: ErrorCode

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION_FAILED

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


class SlotUnavailable(DomainError):
    code = ErrorCode.SLOT_UNAVAILABLE

    def __init__(self, conflicts: Sequence[TimeWindow]) -> None:
        windows = ", ".join(str(w) for w in conflicts[:3]) + (" ..." if len(conflicts) > 3 else "")
        super().__init__(f"the window overlaps {len(conflicts)} confirmed booking(s) or live hold(s): "
                         f"{windows}")
        self.conflicts = tuple(conflicts)


class Contended(DomainError):
    code = ErrorCode.CONTENDED

    def __init__(self, retry_after_ms: int) -> None:
        super().__init__(
            "overlapping requests held the window longer than the wait allowed; "
            f"retry with the same clientMutationId in about {retry_after_ms} ms"
        )
        self.retry_after_ms = retry_after_ms


class IdempotencyKeyReused(DomainError):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED

    def __init__(self, mutation: str, client_mutation_id: str) -> None:
        super().__init__(
            f"clientMutationId {client_mutation_id!r} was already used for {mutation} "
            "with a different input; use a new clientMutationId for a new request"
        )


class VersionConflict(DomainError):
    code = ErrorCode.VERSION_CONFLICT

    def __init__(self, expected: int, current: int, subject: str = "the booking") -> None:
        super().__init__(f"expectedVersion is {expected} but {subject} is at version {current}")
        self.current_version = current


class NotFound(DomainError):
    """``message`` names no id: the edge knows the client's global id and adds it."""

    code = ErrorCode.NOT_FOUND

    def __init__(self, kind: str, object_id: UUID | None) -> None:
        super().__init__(f"no {kind} with this id for this tenant")
        self.kind = kind
        self.object_id = object_id


class HoldExpired(DomainError):
    """confirmBooking came after the hold expired, and the window has been taken since."""

    code = ErrorCode.HOLD_EXPIRED

    def __init__(self, conflicts: Sequence[TimeWindow]) -> None:
        windows = ", ".join(str(w) for w in conflicts[:3]) + (" ..." if len(conflicts) > 3 else "")
        super().__init__("the hold expired and its window is no longer free: it overlaps "
                         f"{len(conflicts)} booking(s) or hold(s): {windows}; hold a new window")
        self.conflicts = tuple(conflicts)


class OutsideSchedule(DomainError):
    """The resource's rules refuse the window; ``reason`` is a ``slots.ScheduleReason`` value."""

    code = ErrorCode.OUTSIDE_SCHEDULE

    def __init__(self, reason: str, detail: str, nearest: Sequence[TimeWindow]) -> None:
        hint = f"; nearest allowed: {', '.join(str(w) for w in nearest)}" if nearest else ""
        super().__init__(f"the resource's rules refuse this window ({reason}: {detail}){hint}")
        self.reason = reason
        self.nearest = tuple(nearest)
