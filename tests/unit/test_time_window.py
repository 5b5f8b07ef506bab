from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone

import pytest

from booking_gateway.domain.errors import ErrorCode, ValidationFailed
from booking_gateway.domain.time_window import TimeWindow, format_instant

from .fakes import window

PLUS_ONE = timezone(timedelta(hours=1))


def at(hour: int, minute: int = 0, tz: timezone = UTC) -> datetime:
    return datetime(2026, 12, 1, hour, minute, tzinfo=tz)


def test_naive_start_is_refused_naming_start() -> None:
    with pytest.raises(ValidationFailed) as err:
        TimeWindow(datetime(2026, 12, 1, 9), at(10))
    assert err.value.field == "start"
    assert err.value.code is ErrorCode.VALIDATION_FAILED
    assert "offset" in err.value.message


def test_naive_end_is_refused_naming_end() -> None:
    with pytest.raises(ValidationFailed) as err:
        TimeWindow(at(9), datetime(2026, 12, 1, 10))
    assert err.value.field == "end"


@pytest.mark.parametrize("end", [at(9), at(8, 59)])
def test_end_not_after_start_is_refused_naming_end(end: datetime) -> None:
    with pytest.raises(ValidationFailed) as err:
        TimeWindow(at(9), end)
    assert err.value.field == "end"
    assert "later than start" in err.value.message


def test_offsets_are_normalised_to_utc() -> None:
    w = TimeWindow(at(10, tz=PLUS_ONE), at(11, 30, tz=PLUS_ONE))
    assert w.start == datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert w.start.utcoffset() == timedelta(0)
    assert w.end.tzinfo is UTC
    assert w.end.hour == 10
    assert w.end.minute == 30
    assert w == TimeWindow(at(9), at(10, 30))
    assert hash(w) == hash(TimeWindow(at(9), at(10, 30)))
    assert str(w) == "[2026-12-01T09:00:00Z, 2026-12-01T10:30:00Z)"


def test_end_before_start_is_judged_in_utc_not_wall_clock() -> None:
    # 09:30+01:00 is 08:30Z, before 09:00Z although the wall clock reads later
    with pytest.raises(ValidationFailed):
        TimeWindow(at(9), at(9, 30, tz=PLUS_ONE))
    assert TimeWindow(at(9, 30, tz=PLUS_ONE), at(9)).duration == timedelta(minutes=30)


def test_windows_that_touch_do_not_overlap() -> None:
    nine_ten, ten_eleven = window(9, 10), window(10, 11)
    assert not nine_ten.overlaps(ten_eleven)
    assert not ten_eleven.overlaps(nine_ten)


@pytest.mark.parametrize(("a", "b"), [
    (window(9, 10), window(9.5, 10.5)),
    (window(9, 12), window(10, 11)),
    (window(9, 10), window(9, 10)),
    (window(9, 10), window(8, 9 + 1 / 3600)),
])
def test_overlapping_windows_overlap_both_ways(a: TimeWindow, b: TimeWindow) -> None:
    assert a.overlaps(b)
    assert b.overlaps(a)


def test_disjoint_windows_do_not_overlap() -> None:
    assert not window(9, 10).overlaps(window(11, 12))


def test_contains_is_inclusive_at_both_bounds() -> None:
    assert window(9, 12).contains(window(9, 12))
    assert window(9, 12).contains(window(10, 11))
    assert not window(9, 12).contains(window(8, 10))
    assert not window(9, 12).contains(window(11, 13))


def test_intersection() -> None:
    assert window(9, 11).intersection(window(10, 12)) == window(10, 11)
    assert window(9, 12).intersection(window(10, 11)) == window(10, 11)
    assert window(9, 10).intersection(window(10, 11)) is None
    assert window(9, 10).intersection(window(11, 12)) is None


def test_hull_covers_both_and_the_gap_between() -> None:
    assert window(9, 10).hull(window(14, 15)) == window(9, 15)
    assert window(14, 15).hull(window(9, 10)) == window(9, 15)
    assert window(9, 12).hull(window(10, 11)) == window(9, 12)


def test_duration() -> None:
    assert window(9, 10.5).duration == timedelta(minutes=90)


def test_of_names_the_callers_fields() -> None:
    with pytest.raises(ValidationFailed) as err:
        TimeWindow.of(at(10), at(9), start_field="window.start", end_field="window.end")
    assert err.value.field == "window.end"
    assert "window.end must be later than window.start" in err.value.message
    with pytest.raises(ValidationFailed) as naive:
        TimeWindow.of(datetime(2026, 12, 1, 9), at(10), start_field="from", end_field="to")
    assert naive.value.field == "from"


def test_of_builds_the_same_window_as_the_constructor() -> None:
    built = TimeWindow.of(at(10, tz=PLUS_ONE), at(11, tz=PLUS_ONE), start_field="a", end_field="b")
    assert built == TimeWindow(at(9), at(10))
    assert built.start.tzinfo is UTC


def test_windows_are_immutable() -> None:
    w = window(9, 10)
    with pytest.raises(FrozenInstanceError):
        w.start = at(8)  # type: ignore[misc]


def test_windows_sort_by_start_then_end() -> None:
    assert sorted([window(10, 11), window(9, 12), window(9, 10)]) == [
        window(9, 10), window(9, 12), window(10, 11)]


def test_format_instant_uses_z_and_keeps_microseconds() -> None:
    assert format_instant(at(10, tz=PLUS_ONE)) == "2026-12-01T09:00:00Z"
    assert format_instant(at(9).replace(microsecond=1500)) == "2026-12-01T09:00:00.001500Z"


@pytest.mark.parametrize(("start", "end", "field"), [
    ("0001-01-01T00:00:00+01:00", "0001-01-01T05:00:00+01:00", "start"),
    ("9999-12-31T18:00:00-05:00", "9999-12-31T20:00:00-05:00", "end"),
])
def test_instants_outside_the_utc_calendar_are_refused_naming_the_field(
        start: str, end: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        TimeWindow.of(datetime.fromisoformat(start), datetime.fromisoformat(end))
    assert err.value.field == field


def test_the_type_holds_the_extremes_of_the_utc_calendar() -> None:
    """Only input is bounded (``TimeWindow.of``): a row stored before the bound still loads."""
    w = TimeWindow(datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
    assert w.duration > timedelta(days=365 * 9998)
