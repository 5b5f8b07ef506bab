"""What the rules allow: one booking's verdict, the nearest allowed windows, the bookable starts.

One :class:`Schedule` is built per resource and request (opening ranges in UTC over the span
that matters), then asked many times; nothing here does I/O.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from booking_gateway.domain.opening_hours import merged, opening_ranges
from booking_gateway.domain.schedule import ResourceRules
from booking_gateway.domain.time_window import TimeWindow

#: The grid nearest windows are searched on when the rules set no slot step.
DEFAULT_GRID = timedelta(minutes=15)
#: How far either side of a refused request the nearest allowed windows are looked for.
NEAREST_SEARCH = timedelta(days=7)
NEAREST_COUNT = 3


class ScheduleReason(StrEnum):
    CLOSED = "CLOSED"
    TOO_SOON = "TOO_SOON"
    TOO_FAR = "TOO_FAR"
    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    OFF_STEP = "OFF_STEP"


def blocked(rules: ResourceRules, window: TimeWindow) -> TimeWindow:
    """The window widened by the buffers: what a booking takes out of the conflict space."""
    if not rules.buffer_before and not rules.buffer_after:
        return window
    return TimeWindow.unchecked(window.start - rules.buffer_before, window.end + rules.buffer_after)


@dataclass(frozen=True, slots=True)
class Schedule:
    rules: ResourceRules
    ranges: tuple[TimeWindow, ...]  # each day's opening ranges: the step's anchors
    open: tuple[TimeWindow, ...]  # the same, merged
    _open_starts: tuple[datetime, ...]
    _range_starts: tuple[datetime, ...]

    @classmethod
    def over(cls, rules: ResourceRules, time_zone: str, span: TimeWindow) -> Schedule:
        ranges = opening_ranges(rules, time_zone, span)
        joined = merged(ranges)
        return cls(rules, tuple(ranges), tuple(joined), tuple(w.start for w in joined),
                   tuple(r.start for r in ranges))

    def refusal(self, window: TimeWindow, now: datetime) -> ScheduleReason | None:
        rules = self.rules
        if rules.min_duration is not None and window.duration < rules.min_duration:
            return ScheduleReason.TOO_SHORT
        if rules.max_duration is not None and window.duration > rules.max_duration:
            return ScheduleReason.TOO_LONG
        if window.start < now + rules.min_notice:
            return ScheduleReason.TOO_SOON
        if rules.max_horizon is not None and window.start > now + rules.max_horizon:
            return ScheduleReason.TOO_FAR
        i = bisect_right(self._open_starts, window.start) - 1
        if i < 0 or self.open[i].end < window.end:
            return ScheduleReason.CLOSED
        if rules.step is not None:
            j = bisect_right(self._range_starts, window.start) - 1
            if (window.start - self.ranges[j].start) % rules.step:
                return ScheduleReason.OFF_STEP
        return None

    def starts(self, window: TimeWindow, step: timedelta) -> list[datetime]:
        """Starts in ``window`` on each opening range's grid of ``step``: candidates, that
        :meth:`refusal` still judges (a booking may run on into the next day's range)."""
        found = []
        for anchor in self.ranges:
            first = anchor.start
            if first < window.start:
                first += -((first - window.start) // step) * step
            t, last = first, min(anchor.end, window.end)
            while t < last:
                found.append(t)
                t += step
        return found


def check(rules: ResourceRules, time_zone: str, window: TimeWindow,
          now: datetime) -> ScheduleReason | None:
    """Why the rules refuse a booking of ``window`` at ``now``, or None."""
    return Schedule.over(rules, time_zone, window).refusal(window, now)


def nearest_allowed(rules: ResourceRules, time_zone: str, window: TimeWindow,
                    now: datetime) -> list[TimeWindow]:
    """Up to three windows the rules allow, nearest to the refused one, of its duration (clamped
    to the allowed durations), on the rules' step grid; other bookings are not considered."""
    duration = window.duration
    if rules.min_duration is not None:
        duration = max(duration, rules.min_duration)
    if rules.max_duration is not None:
        duration = min(duration, rules.max_duration)
    span = TimeWindow.unchecked(max(window.start - NEAREST_SEARCH, now),
                                max(window.start + NEAREST_SEARCH, now + NEAREST_SEARCH))
    schedule = Schedule.over(rules, time_zone, span)
    allowed = [TimeWindow.unchecked(t, t + duration)
               for t in schedule.starts(span, rules.step or DEFAULT_GRID)]
    allowed = [w for w in allowed if schedule.refusal(w, now) is None]
    allowed.sort(key=lambda w: abs(w.start - window.start))
    return sorted(allowed[:NEAREST_COUNT])


def bookable_starts(rules: ResourceRules, time_zone: str, window: TimeWindow, duration: timedelta,
                    step: timedelta, now: datetime, busy: Sequence[TimeWindow]) -> list[datetime]:
    """:func:`bookable_starts_us` with the busy windows as windows."""
    busy_us = [(_us(b.start - _EPOCH), _us(b.end - _EPOCH)) for b in busy]
    schedule = Schedule.over(rules, time_zone, TimeWindow.unchecked(window.start, window.end + duration))
    return bookable_starts_us(schedule, window, duration, step, now, busy_us)


def bookable_starts_us(schedule: Schedule, window: TimeWindow, duration: timedelta, step: timedelta,
                       now: datetime, busy: Sequence[tuple[int, int]]) -> list[datetime]:
    """Starts in ``window``, on each opening range's grid of ``step``, that a booking of
    ``duration`` would be accepted at: the rules allow it and its blocked window (buffers
    included) overlaps none of ``busy`` (other bookings' blocked windows, in epoch microseconds).
    ``schedule`` must cover ``window`` plus ``duration``.

    The same verdict as :meth:`Schedule.refusal` plus an overlap test per candidate (the unit
    tests compare the two), computed on integer microseconds with the busy windows turned into
    the starts they forbid: a week of 50 resources is thousands of candidates.
    """
    rules = schedule.rules
    if ((rules.min_duration is not None and duration < rules.min_duration)
            or (rules.max_duration is not None and duration > rules.max_duration)):
        return []
    d, q = _us(duration), _us(step)
    rule_step = _us(rules.step) if rules.step is not None else 0
    low = max(_us(window.start - _EPOCH), _us(now + rules.min_notice - _EPOCH))
    high = _us(window.end - _EPOCH) - 1  # inclusive
    if rules.max_horizon is not None:
        high = min(high, _us(now + rules.max_horizon - _EPOCH))
    forbidden = _forbidden_starts(busy, d, _us(rules.buffer_before), _us(rules.buffer_after))
    open_ = [(_us(o.start - _EPOCH), _us(o.end - _EPOCH)) for o in schedule.open]
    open_starts = [o[0] for o in open_]
    out: list[int] = []
    for anchor in schedule.ranges:
        a0, a1 = _us(anchor.start - _EPOCH), _us(anchor.end - _EPOCH)
        closes = open_[bisect_right(open_starts, a0) - 1][1]
        t = a0 if a0 >= low else a0 + -((a0 - low) // q) * q
        last = min(a1 - 1, closes - d, high)
        j = 0
        while t <= last:
            if rule_step and (t - a0) % rule_step:
                t += q
                continue
            while j < len(forbidden) and forbidden[j][1] <= t:
                j += 1
            if not (j < len(forbidden) and forbidden[j][0] < t):
                out.append(t)
            t += q
    out.sort()
    return [_instant(t) for t in out]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Instants by epoch microseconds: the resources of one query, and consecutive queries, share
#: their grid, so the same starts come back (and their formatted text is cached by instant).
_INSTANTS: dict[int, datetime] = {}
_INSTANTS_MAX = 65_536


def _instant(micros: int) -> datetime:
    found = _INSTANTS.get(micros)
    if found is None:
        if len(_INSTANTS) >= _INSTANTS_MAX:
            _INSTANTS.clear()
        found = _INSTANTS[micros] = _EPOCH + timedelta(microseconds=micros)
    return found


def _us(span: timedelta) -> int:
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds


def _forbidden_starts(busy: Sequence[tuple[int, int]], d: int, before: int,
                      after: int) -> list[tuple[int, int]]:
    """Open intervals (lo, hi) of starts whose blocked window overlaps a busy one, sorted and
    joined where they overlap (not where they only touch: that start is free)."""
    spans = sorted((start - d - after, end + before) for start, end in busy)
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        if out and lo < out[-1][1]:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out
