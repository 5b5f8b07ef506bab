"""format_instant: RFC 3339 in UTC with Z, the same with its cache of UTC instants."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from booking_gateway.domain import time_window
from booking_gateway.domain.time_window import format_instant


def reference(value: datetime) -> str:
    """The formatting before the cache: isoformat of the UTC value, +00:00 spelled Z."""
    text = value.astimezone(UTC).isoformat()
    assert text.endswith("+00:00")
    return text[:-6] + "Z"


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    time_window._UTC_TEXT.clear()
    yield
    time_window._UTC_TEXT.clear()


@pytest.mark.parametrize(("value", "text"), [
    (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "2026-12-01T09:00:00Z"),
    (datetime(2026, 12, 1, 9, 0, 0, 1, tzinfo=UTC), "2026-12-01T09:00:00.000001Z"),
    (datetime(2026, 12, 1, 9, 0, 0, 120000, tzinfo=UTC), "2026-12-01T09:00:00.120000Z"),
    (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
    (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999999Z"),
    (datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=1))), "2026-12-01T09:00:00Z"),
    (datetime(2026, 12, 1, 3, 30, 0, 5, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
     "2026-12-01T09:00:00.000005Z"),
    (datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(0), "GMT")), "2026-12-01T09:00:00Z"),
])
def test_formats_in_utc_with_z(value: datetime, text: str) -> None:
    assert format_instant(value) == text
    assert format_instant(value) == text  # and again, from the cache where it was cached


def test_equals_the_reference_for_many_instants() -> None:
    rng = random.Random(5)
    zones = [UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-3, minutes=-15)),
             ZoneInfo("Europe/Berlin")]
    for _ in range(3000):
        value = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(40 * 365 * 86400), microseconds=rng.choice([0, rng.randrange(10**6)]))
        local = value.astimezone(rng.choice(zones))
        for candidate in (value, local, value):
            assert format_instant(candidate) == reference(candidate)


def test_an_ambiguous_local_time_is_not_confused_with_its_twin() -> None:
    # 01:30 happens twice in New York on 2026-11-01; the two datetimes compare equal (same tzinfo)
    # and hash alike, yet are different instants
    new_york = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york)
    second = first.replace(fold=1)
    assert first == second
    assert format_instant(first) == "2026-11-01T05:30:00Z"
    assert format_instant(second) == "2026-11-01T06:30:00Z"
    assert format_instant(first) == "2026-11-01T05:30:00Z"


def test_an_equal_utc_instant_is_formatted_from_the_cache() -> None:
    value = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    text = format_instant(value)
    assert {value: "2026-12-01T09:00:00Z"} == time_window._UTC_TEXT
    assert format_instant(value.replace()) is text


def test_the_cache_stays_within_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time_window, "_UTC_TEXT_MAX", 50)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    for minute in range(500):
        value = start + timedelta(minutes=minute, microseconds=minute)
        assert format_instant(value) == reference(value)
        assert 0 < len(time_window._UTC_TEXT) <= 50
    # after being cleared it answers what it answered before
    assert format_instant(start) == "2026-12-01T00:00:00Z"
