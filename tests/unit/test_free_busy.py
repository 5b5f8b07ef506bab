"""Property tests: merge, clip and complement agree with a brute-force check of instants.

Windows lie on a one-minute grid (written in random UTC offsets), so checking every
whole and half minute across the range decides membership exactly; hypothesis also
draws arbitrary instants to the microsecond.
"""

import itertools
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from booking_gateway.domain.free_busy import busy_within, clip, complement, merge
from booking_gateway.domain.time_window import TimeWindow

from .fakes import window

BASE = datetime(2026, 12, 1, tzinfo=UTC)
SPAN_MINUTES = 600

offsets = st.integers(min_value=-14 * 4, max_value=14 * 4).map(
    lambda quarters: timezone(timedelta(minutes=15 * quarters)))


@st.composite
def windows(draw: st.DrawFn) -> TimeWindow:
    start = draw(st.integers(min_value=0, max_value=SPAN_MINUTES - 1))
    length = draw(st.integers(min_value=1, max_value=SPAN_MINUTES // 3))
    tz = draw(offsets)
    return TimeWindow((BASE + timedelta(minutes=start)).astimezone(tz),
                      (BASE + timedelta(minutes=start + length)).astimezone(tz))


window_lists = st.lists(windows(), max_size=12)
instants = st.integers(min_value=-60 * 60_000_000, max_value=(SPAN_MINUTES + 300) * 60_000_000).map(
    lambda us: BASE + timedelta(microseconds=us))

GRID = [BASE + timedelta(seconds=30 * half) for half in range(-4, 2 * (SPAN_MINUTES + SPAN_MINUTES // 3 + 2))]

properties = settings(deadline=None, max_examples=300)


def covers(ws: list[TimeWindow], t: datetime) -> bool:
    return any(w.start <= t < w.end for w in ws)


def assert_sorted_and_apart(ws: list[TimeWindow]) -> None:
    """Sorted, and neither overlapping nor touching: a gap separates neighbours."""
    for a, b in itertools.pairwise(ws):
        assert a.end < b.start, (a, b)


@properties
@given(window_lists, st.lists(instants, max_size=20))
def test_merge_is_sorted_apart_and_covers_the_same_instants(
        ws: list[TimeWindow], sampled: list[datetime]) -> None:
    merged = merge(ws)
    assert_sorted_and_apart(merged)
    for t in GRID + sampled:
        assert covers(merged, t) == covers(ws, t), t


@properties
@given(window_lists)
def test_merge_is_idempotent_and_ignores_order(ws: list[TimeWindow]) -> None:
    merged = merge(ws)
    assert merge(merged) == merged
    assert merge(reversed(ws)) == merged
    assert len(merged) <= len(ws)


@properties
@given(window_lists, windows(), st.lists(instants, max_size=20))
def test_clip_keeps_exactly_the_parts_inside(
        ws: list[TimeWindow], to: TimeWindow, sampled: list[datetime]) -> None:
    clipped = clip(ws, to)
    assert all(to.contains(part) for part in clipped)
    for t in GRID + sampled:
        assert covers(clipped, t) == (covers(ws, t) and to.start <= t < to.end), t


@properties
@given(window_lists, windows(), st.lists(instants, max_size=20))
def test_free_and_busy_partition_the_window(
        ws: list[TimeWindow], within: TimeWindow, sampled: list[datetime]) -> None:
    busy = busy_within(ws, within)
    free = complement(busy, within)
    assert_sorted_and_apart(busy)
    assert_sorted_and_apart(free)

    # laid end to end they tile the window: no gap, no overlap
    tiles = sorted(busy + free)
    assert tiles, "a non-empty window is either busy or free somewhere"
    assert tiles[0].start == within.start
    assert tiles[-1].end == within.end
    for a, b in itertools.pairwise(tiles):
        assert a.end == b.start, (a, b)

    for t in GRID + sampled:
        inside = within.start <= t < within.end
        assert covers(busy, t) == (inside and covers(ws, t)), t
        assert covers(free, t) == (inside and not covers(ws, t)), t


def test_touching_windows_merge_into_one() -> None:
    assert merge([window(10, 11), window(9, 10)]) == [window(9, 11)]


def test_busy_within_clips_to_the_window() -> None:
    assert busy_within([window(8, 10), window(11, 11.5), window(12, 14)], window(9, 13)) == [
        window(9, 10), window(11, 11.5), window(12, 13)]


def test_complement_of_nothing_is_the_whole_window() -> None:
    assert complement([], window(9, 17)) == [window(9, 17)]


def test_complement_of_everything_is_empty() -> None:
    assert complement([window(9, 17)], window(9, 17)) == []


def test_complement_leaves_the_gaps() -> None:
    assert complement([window(10, 11), window(12, 13)], window(9, 17)) == [
        window(9, 10), window(11, 12), window(13, 17)]
