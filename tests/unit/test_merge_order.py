"""merge skips sorting input already sorted by start; the answer is the same either way."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from booking_gateway.domain.free_busy import merge
from booking_gateway.domain.time_window import TimeWindow

BASE = datetime(2026, 12, 1, tzinfo=UTC)


def window(start: int, end: int) -> TimeWindow:
    return TimeWindow(BASE + timedelta(minutes=start), BASE + timedelta(minutes=end))


def test_equal_starts_in_any_order_of_ends_merge_alike() -> None:
    expected = [window(0, 60), window(90, 100)]
    assert merge([window(0, 60), window(0, 30), window(90, 100)]) == expected
    assert merge([window(0, 30), window(0, 60), window(90, 100)]) == expected


def test_sorted_unsorted_and_generated_input_merge_alike() -> None:
    rng = random.Random(7)
    for _ in range(300):
        windows = []
        for _ in range(rng.randrange(12)):
            start = rng.randrange(0, 600, 15)
            windows.append(window(start, start + rng.randrange(15, 120, 15)))
        expected = merge(sorted(windows))
        assert merge(windows) == expected
        assert merge(sorted(windows, key=lambda w: w.start)) == expected
        assert merge(w for w in reversed(windows)) == expected
        assert all(a.end < b.start for a, b in pairwise(expected))
