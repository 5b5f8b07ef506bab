"""Half-open UTC time windows, the unit of everything the gateway books."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from booking_gateway.domain.errors import ValidationFailed

#: The instants the gateway accepts, ``[EARLIEST_INSTANT, LATEST_INSTANT)``, wherever one enters
#: (inputs, windows, filters, cursors). Python's calendar ends at 9999-12-31 and asyncpg stores
#: datetime.min and datetime.max as PostgreSQL's -infinity and infinity, which cannot be read back
#: as datetimes; a millennium of room below the calendar's end lets durations, buffers and offsets
#: be added to an accepted instant without overflow.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(9000, 1, 1, tzinfo=UTC)


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
        _set_start(self, start)
        _set_end(self, end)

    @classmethod
    def of(cls, start: datetime, end: datetime, *, start_field: str = "start",
           end_field: str = "end") -> TimeWindow:
        """Build a window from a client's input: also refuses instants outside the supported range,
        naming the caller's own input fields in any validation error."""
        start, end = _checked(start, end, start_field, end_field)
        _check_range(start, start_field)
        _check_range(end, end_field)
        return cls.unchecked(start, end)

    @classmethod
    def unchecked(cls, start: datetime, end: datetime) -> TimeWindow:
        """For arithmetic on windows that is valid by construction (UTC, ``start < end``):
        skips the checks, which free/busy of a long window would otherwise run hundreds of times."""
        window = _new(cls)
        _set_start(window, start)
        _set_end(window, end)
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


# Setting the slots of a frozen window through their descriptors: ~2.5x faster than
# object.__setattr__, which free/busy of a long window calls hundreds of times.
_new = object.__new__
_set_start = vars(TimeWindow)["start"].__set__
_set_end = vars(TimeWindow)["end"].__set__


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


def check_instant(value: datetime, field: str) -> datetime:
    """``value`` in UTC if it has an offset and lies in the supported range; else VALIDATION_FAILED
    naming ``field``. For an instant that enters alone (a cursor); windows check their own."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(field, f"{field} has no UTC offset")
    utc = value if value.tzinfo is UTC else _in_utc(value, field)
    _check_range(utc, field)
    return utc


def _check_range(value: datetime, field: str) -> None:
    """``value`` is in UTC."""
    if not EARLIEST_INSTANT <= value < LATEST_INSTANT:
        raise _out_of_range(field)


def _out_of_range(field: str) -> ValidationFailed:
    return ValidationFailed(field, f"{field} must be at or after {format_instant(EARLIEST_INSTANT)} and before "
                                   f"{format_instant(LATEST_INSTANT)}")


def _in_utc(value: datetime, field: str) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before the first instant in UTC
        raise _out_of_range(field) from None


#: Formatted UTC instants. Answers repeat their instants (a busy window's end is the next free
#: window's start) and so do consecutive answers (the same bookings), while formatting one costs
#: about as much as all of the rest of its completion; cleared whenever it reaches the bound.
_UTC_TEXT: dict[datetime, str] = {}
_UTC_TEXT_MAX = 8192


def format_instant(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix and only the fraction digits needed: the short form of
    fingerprints (stored idempotency hashes depend on it), events and messages."""
    if value.tzinfo is UTC:  # the usual case (values from the database and the domain)
        # Two datetimes with the same tzinfo are equal only if their fields are, so a hit is
        # exact; other zones are not cached (equality ignores ``fold`` within one zone).
        text = _UTC_TEXT.get(value)
        if text is None:
            # a naive date and time format in half the time of the aware datetime
            text = f"{value.date().isoformat()}T{value.time().isoformat()}Z"
            if len(_UTC_TEXT) >= _UTC_TEXT_MAX:
                _UTC_TEXT.clear()
            _UTC_TEXT[value] = text
        return text
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_FIXED_TEXT: dict[datetime, str] = {}


def format_instant_fixed(value: datetime) -> str:
    """RFC 3339 in UTC, ``Z`` and always six fraction digits (``2026-12-01T09:00:00.000000Z``): the
    API's output format, one length for every instant, so instants compare and cache as strings."""
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    text = _FIXED_TEXT.get(utc)
    if text is None:
        text = f"{utc.date().isoformat()}T{utc.time().isoformat('microseconds')}Z"
        if len(_FIXED_TEXT) >= _UTC_TEXT_MAX:
            _FIXED_TEXT.clear()
        _FIXED_TEXT[utc] = text
    return text
