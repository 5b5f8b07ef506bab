"""Half-open UTC time windows, the unit of everything the gateway books."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from booking_gateway.domain.errors import ValidationFailed


@dataclass(frozen=True, slots=True, order=True)
class TimeWindow:
    """``[start, end)`` in UTC; a window ending at 10:00 and one starting at 10:00 do not overlap.

    Construction refuses naive datetimes (an offset is never guessed) and empty or
    inverted windows, so every ``TimeWindow`` in the system is valid.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start, end = _checked(self.start, self.end, "start", "end")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @classmethod
    def of(cls, start: datetime, end: datetime, *, start_field: str = "start",
           end_field: str = "end") -> TimeWindow:
        """Build a window, naming the caller's own input fields in any validation error."""
        return cls(*_checked(start, end, start_field, end_field))

    @classmethod
    def unchecked(cls, start: datetime, end: datetime) -> TimeWindow:
        """For arithmetic on windows that is valid by construction (UTC, ``start < end``):
        skips the checks, which free/busy of a long window would otherwise run hundreds of times."""
        window = object.__new__(cls)
        object.__setattr__(window, "start", start)
        object.__setattr__(window, "end", end)
        return window

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: TimeWindow) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: TimeWindow) -> bool:
        return self.start <= other.start and other.end <= self.end

    def intersection(self, other: TimeWindow) -> TimeWindow | None:
        if other.start <= self.start and self.end <= other.end:
            return self
        start, end = max(self.start, other.start), min(self.end, other.end)
        return TimeWindow.unchecked(start, end) if start < end else None

    def hull(self, other: TimeWindow) -> TimeWindow:
        """The smallest window covering both (used for the changed part of a reschedule)."""
        return TimeWindow.unchecked(min(self.start, other.start), max(self.end, other.end))

    def __str__(self) -> str:
        return f"[{format_instant(self.start)}, {format_instant(self.end)})"


def _checked(start: datetime, end: datetime, start_field: str,
             end_field: str) -> tuple[datetime, datetime]:
    if start.tzinfo is UTC and end.tzinfo is UTC:  # the common case (the database's values): cheap
        if end <= start:
            raise ValidationFailed(end_field, f"{end_field} must be later than {start_field}")
        return start, end
    for field, value in ((start_field, start), (end_field, end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationFailed(
                field, f"{field} has no UTC offset; send e.g. 2026-12-01T09:00:00Z or ...+01:00"
            )
    start, end = _in_utc(start, start_field), _in_utc(end, end_field)
    if end <= start:
        raise ValidationFailed(end_field, f"{end_field} must be later than {start_field}")
    return start, end


def _in_utc(value: datetime, field: str) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before the first instant in UTC
        raise ValidationFailed(field, f"{field} is out of the supported range of dates") from None


def format_instant(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, the contract's output format."""
    if value.tzinfo is UTC:  # the usual case: isoformat ends in "+00:00"
        return value.isoformat()[:-6] + "Z"
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
