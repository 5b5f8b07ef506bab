"""windows_from: bounds read as datetimes or as epoch microseconds give the same windows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from booking_gateway.domain.errors import ValidationFailed
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.postgres import rows
from booking_gateway.infra.postgres.rows import windows_from

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(value: datetime) -> int:
    return (value - EPOCH) // timedelta(microseconds=1)


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    rows._WINDOWS.clear()
    yield
    rows._WINDOWS.clear()


def test_microseconds_give_the_windows_of_the_datetimes() -> None:
    starts = [datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, 0, 0, 1, tzinfo=UTC),
              datetime(1969, 7, 20, 20, 17, 40, 500000, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)]
    ends = [s + timedelta(minutes=45, microseconds=7) for s in starts]
    expected = windows_from(starts, ends)
    got = windows_from([micros(s) for s in starts], [micros(e) for e in ends])
    assert got == expected
    assert [(w.start, w.end) for w in got] == list(zip(starts, ends, strict=True))
    assert all(w.start.tzinfo is UTC and w.end.tzinfo is UTC for w in got)


def test_no_bounds_are_no_windows() -> None:
    assert windows_from(None, None) == []
    assert windows_from([], []) == []


def test_a_window_read_again_is_the_same_object() -> None:
    start = micros(datetime(2026, 12, 1, 9, tzinfo=UTC))
    [first] = windows_from([start], [start + 3_600_000_000])
    [again] = windows_from([start], [start + 3_600_000_000])
    assert again is first
    [other] = windows_from([start], [start + 1])
    assert other is not first
    assert other.end == datetime(2026, 12, 1, 9, 0, 0, 1, tzinfo=UTC)


def test_a_start_read_again_with_another_end_is_that_window() -> None:
    start = micros(datetime(2026, 12, 1, 9, tzinfo=UTC))
    hour, half = start + 3_600_000_000, start + 1_800_000_000
    assert windows_from([start], [hour])[0].end == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert windows_from([start], [half])[0].end == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert windows_from([start], [hour])[0].end == datetime(2026, 12, 1, 10, tzinfo=UTC)
    both = windows_from([start, start], [half, hour])
    assert [w.end for w in both] == [datetime(2026, 12, 1, 9, 30, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC)]


def test_an_empty_window_is_still_refused() -> None:
    start = micros(datetime(2026, 12, 1, 9, tzinfo=UTC))
    with pytest.raises(ValidationFailed):
        windows_from([start], [start])
    assert not rows._WINDOWS


def test_unequal_arrays_are_an_error() -> None:
    with pytest.raises(ValueError, match="zip"):
        windows_from([1, 2], [3])


def test_the_cache_stays_within_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows, "_WINDOWS_MAX", 20)
    base = micros(datetime(2026, 12, 1, tzinfo=UTC))
    starts = [base + i * 60_000_000 for i in range(100)]
    windows = windows_from(starts, [s + 30_000_000 for s in starts])
    assert 0 < len(rows._WINDOWS) <= 20
    assert windows == [TimeWindow(EPOCH + timedelta(microseconds=s), EPOCH + timedelta(microseconds=s + 30_000_000))
                       for s in starts]
