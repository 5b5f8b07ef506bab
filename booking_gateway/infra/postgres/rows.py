"""Rows to domain objects, and the error codes PostgreSQL reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from booking_gateway.domain.idempotency import OutcomeKind, StoredOutcome
from booking_gateway.domain.model import Booking, BookingStatus, Resource
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.postgres.blocking import EFFECTIVE_STATUS

EXCLUSION_VIOLATION = "23P01"
UNIQUE_VIOLATION = "23505"
DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"

BOOKING_COLUMNS = ("id, tenant_id, resource_id, lower(during) AS start, upper(during) AS end_, "
                   f"{EFFECTIVE_STATUS} AS status, version, reference, note, created_at, updated_at, "
                   "expires_at")


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database error (asyncpg's, or one wrapped by SQLAlchemy)."""
    orig = getattr(error, "orig", None) or error
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(state) if state else None


def booking_from(row: Any) -> Booking:
    return Booking(
        id=row["id"], tenant_id=row["tenant_id"], resource_id=row["resource_id"],
        window=TimeWindow(row["start"], row["end_"]), status=BookingStatus(row["status"]),
        version=row["version"], reference=row["reference"], note=row["note"],
        created_at=row["created_at"], updated_at=row["updated_at"], expires_at=row["expires_at"],
    )


def resource_from(row: Any) -> Resource:
    return Resource(id=row["id"], tenant_id=row["tenant_id"], name=row["name"],
                    time_zone=row["time_zone"], created_at=row["created_at"])


def windows_from(starts: Sequence[datetime] | Sequence[int] | None,
                 ends: Sequence[datetime] | Sequence[int] | None) -> list[TimeWindow]:
    """Windows from arrays of bounds: datetimes, or epoch microseconds (see ``AVAILABILITY``)."""
    if starts and type(starts[0]) is int:
        return _windows_from_micros(starts, ends)  # type: ignore[arg-type]
    return [TimeWindow(s, e) for s, e in zip(starts or (), ends or (), strict=True)]  # type: ignore[arg-type]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Windows by their bounds in epoch microseconds, cleared whenever it reaches the bound.
#: asyncpg decodes a timestamptz slowly (a timedelta and an addition each), which made
#: the ~120 bounds of a week's availability cost more than its SQL; an int8 decodes for
#: almost nothing, and the same bookings are read again and again, so their windows (and
#: the datetimes in them, whose hashes the formatting cache then finds already computed)
#: are reused from here. TimeWindow is immutable, so sharing one is safe. Keyed by the start
#: alone, holding the end too, so that a hit allocates nothing (no key tuple).
_WINDOWS: dict[int, tuple[int, TimeWindow]] = {}
_WINDOWS_MAX = 8192


def _windows_from_micros(starts: Sequence[int], ends: Sequence[int] | None) -> list[TimeWindow]:
    windows = []
    cache = _WINDOWS
    for start, end in zip(starts, ends or (), strict=True):
        known = cache.get(start)
        if known is None or known[0] != end:
            known = (end, TimeWindow(_EPOCH + timedelta(microseconds=start),
                                     _EPOCH + timedelta(microseconds=end)))
            if len(cache) >= _WINDOWS_MAX:
                cache.clear()
            cache[start] = known
        windows.append(known[1])
    return windows


def outcome_from(row: Any) -> StoredOutcome:
    return StoredOutcome(
        request_hash=bytes(row["request_hash"]), kind=OutcomeKind(row["kind"]), object_id=row["object_id"],
        conflicts=tuple(windows_from(row["conflict_starts"], row["conflict_ends"])),
    )


OUTCOME_COLUMNS = (
    "request_hash, kind, object_id, "
    "ARRAY(SELECT lower(c) FROM unnest(conflicts) WITH ORDINALITY u(c, i) ORDER BY i) AS conflict_starts, "
    "ARRAY(SELECT upper(c) FROM unnest(conflicts) WITH ORDINALITY u(c, i) ORDER BY i) AS conflict_ends"
)
