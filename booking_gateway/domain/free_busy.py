"""Free/busy arithmetic over half-open windows: merge, clip, complement."""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter

from booking_gateway.domain.time_window import TimeWindow

#: TimeWindow's own order (by start, then end), compared in C instead of by its __lt__
_BOUNDS = attrgetter("start", "end")


def merge(windows: Iterable[TimeWindow]) -> list[TimeWindow]:
    """Sorted union; windows that overlap or touch become one (busy 9-10 and 10-11 is busy 9-11)."""
    ordered = list(windows)
    if not _by_start(ordered):  # the store's windows come sorted: no sort, no key tuples
        ordered.sort(key=_BOUNDS)
    merged: list[TimeWindow] = []
    for window in ordered:
        if merged and window.start <= merged[-1].end:
            if window.end > merged[-1].end:
                merged[-1] = TimeWindow.unchecked(merged[-1].start, window.end)
        else:
            merged.append(window)
    return merged


def _by_start(windows: list[TimeWindow]) -> bool:
    """Whether sorted by start, which is all that merge needs (equal starts merge anyway)."""
    previous = None
    for window in windows:
        if previous is not None and window.start < previous:
            return False
        previous = window.start
    return True


def clip(windows: Iterable[TimeWindow], to: TimeWindow) -> list[TimeWindow]:
    """The parts of ``windows`` inside ``to``, in input order; parts outside are dropped."""
    start, end = to.start, to.end
    parts: list[TimeWindow] = []
    for w in windows:
        if start <= w.start and w.end <= end:  # the usual case, without a call
            parts.append(w)
        elif (part := w.intersection(to)) is not None:
            parts.append(part)
    return parts


def busy_within(bookings: Iterable[TimeWindow], window: TimeWindow) -> list[TimeWindow]:
    """Merged, sorted and clipped to ``window``: the contract's ``Availability.busy``."""
    return merge(clip(bookings, window))


def complement(busy: list[TimeWindow], window: TimeWindow) -> list[TimeWindow]:
    """``window`` minus ``busy``, sorted; ``busy`` must be merged and clipped to ``window``."""
    free: list[TimeWindow] = []
    unchecked = TimeWindow.unchecked
    cursor = window.start
    for b in busy:
        if b.start > cursor:
            free.append(unchecked(cursor, b.start))
        if b.end > cursor:
            cursor = b.end
    if cursor < window.end:
        free.append(unchecked(cursor, window.end))
    return free
