"""The supported range of instants: one rule in the domain, applied wherever an instant enters."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from booking_gateway.domain.errors import ValidationFailed
from booking_gateway.domain.time_window import EARLIEST_INSTANT, LATEST_INSTANT, TimeWindow, check_instant
from booking_gateway.resolvers.cursors import booking_cursor, parse_booking_cursor
from booking_gateway.schema.scalars import DATETIME, parse_datetime

TICK = timedelta(microseconds=1)
PLUS_ONE, MINUS_ONE = timezone(timedelta(hours=1)), timezone(timedelta(hours=-1))


def test_the_range_is_1970_until_before_9000_with_room_to_add_to_it() -> None:
    assert EARLIEST_INSTANT.isoformat() == "1970-01-01T00:00:00+00:00"
    assert LATEST_INSTANT.isoformat() == "9000-01-01T00:00:00+00:00"
    # the longest window the settings allow (BOOKING_MAX_*_DAYS <= 3660) and any offset fit
    assert LATEST_INSTANT + timedelta(days=365 * 900) < datetime.max.replace(tzinfo=UTC)


def test_windows_at_the_edges_of_the_range_are_accepted() -> None:
    assert TimeWindow.of(EARLIEST_INSTANT, EARLIEST_INSTANT + TICK).start == EARLIEST_INSTANT
    assert TimeWindow.of(LATEST_INSTANT - 2 * TICK, LATEST_INSTANT - TICK).end == LATEST_INSTANT - TICK
    # the same instants written with an offset
    local = TimeWindow.of(EARLIEST_INSTANT.astimezone(PLUS_ONE), (LATEST_INSTANT - TICK).astimezone(MINUS_ONE))
    assert (local.start, local.end) == (EARLIEST_INSTANT, LATEST_INSTANT - TICK)


@pytest.mark.parametrize(("start", "end", "field"), [
    (EARLIEST_INSTANT - TICK, EARLIEST_INSTANT + TICK, "from"),
    (LATEST_INSTANT - TICK, LATEST_INSTANT, "to"),
    (LATEST_INSTANT, LATEST_INSTANT + TICK, "from"),
    (datetime.min.replace(tzinfo=UTC), datetime(1, 1, 1, 1, tzinfo=UTC), "from"),
    (datetime(9999, 12, 31, tzinfo=UTC), datetime.max.replace(tzinfo=UTC), "from"),
    (datetime(2026, 1, 1, tzinfo=UTC), datetime.max.replace(tzinfo=UTC), "to"),
    (datetime(1970, 1, 1, 0, 30, tzinfo=PLUS_ONE), datetime(2026, 1, 1, tzinfo=UTC), "from"),  # 1969 in UTC
    # no UTC equivalent at all: converting overflows
    (datetime(1, 1, 1, tzinfo=PLUS_ONE), datetime(1, 1, 1, 5, tzinfo=PLUS_ONE), "from"),
    (datetime(2026, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=MINUS_ONE), "to"),
])
def test_windows_outside_the_range_are_refused_naming_the_field(start: datetime, end: datetime,
                                                                 field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        TimeWindow.of(start, end, start_field="from", end_field="to")
    assert err.value.field == field
    assert err.value.message == (f"{field} must be at or after 1970-01-01T00:00:00Z and before "
                                 "9000-01-01T00:00:00Z")


def test_check_instant_converts_to_utc_and_refuses_what_is_outside() -> None:
    assert check_instant(datetime(2026, 1, 1, 1, tzinfo=PLUS_ONE), "after") == datetime(2026, 1, 1, tzinfo=UTC)
    for bad in (datetime(1, 1, 1, tzinfo=PLUS_ONE), datetime(9999, 12, 31, 23, 59, 59, tzinfo=MINUS_ONE),
                datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), LATEST_INSTANT):
        with pytest.raises(ValidationFailed) as err:
            check_instant(bad, "after")
        assert err.value.field == "after"
        assert "1970-01-01T00:00:00Z" in err.value.message
    with pytest.raises(ValidationFailed, match="offset"):
        check_instant(datetime(2026, 1, 1), "after")


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+01:00",
                                     "9999-12-31T23:59:59.999999+00:00", "9999-12-31T23:59:59-01:00"])
def test_a_cursor_outside_the_range_is_refused_naming_after(instant: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_booking_cursor(_cursor(f"b:{instant}|{uuid.uuid4()}"))
    assert err.value.field == "after"
    assert "9000-01-01T00:00:00Z" in err.value.message


def test_a_cursor_the_api_issued_round_trips() -> None:
    booking_id, start = uuid.uuid4(), datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert parse_booking_cursor(booking_cursor(start, booking_id)) == (start, booking_id)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                                  "9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z"])
def test_the_scalar_parses_instants_without_a_utc_equivalent_without_overflowing(text: str) -> None:
    """The domain, not the scalar, refuses them: then the answer names the input field."""
    parsed = parse_datetime(text)
    assert parsed.utcoffset() is not None
    with pytest.raises(ValidationFailed) as err:
        check_instant(parsed, "start")
    assert err.value.field == "start"


def test_the_scalar_documents_the_range() -> None:
    assert "1970-01-01T00:00:00Z" in (DATETIME.description or "")
    assert "9000-01-01T00:00:00Z" in (DATETIME.description or "")
