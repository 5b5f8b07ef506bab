"""Opening hours in a resource's IANA zone, as UTC windows.

The rule, DST included: a resource is open exactly while the wall clock shows a time inside
one of the day's ranges. So a 09:00-17:00 day lasts 8 hours on both sides of a change; a range
start or end in the skipped hour (spring forward) falls on the change itself (02:00-03:00 on
that day is empty); in the repeated hour (fall back) a start takes the first occurrence and an
end the second (01:00-02:30 lasts 2.5 hours that night).
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from booking_gateway.domain.schedule import MINUTES_PER_DAY, LocalRange, ResourceRules
from booking_gateway.domain.time_window import TimeWindow

_ALL_DAY = (LocalRange(0, MINUTES_PER_DAY),)


@lru_cache(maxsize=1024)
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def opening_ranges(rules: ResourceRules, time_zone: str, window: TimeWindow) -> list[TimeWindow]:
    """Each day's opening ranges that touch ``window``, in UTC, sorted, not merged.

    Every range is an anchor for the slot step (slots start at a range start plus steps).
    Without weekly hours a day is one range from local midnight to the next.
    """
    tz = zone(time_zone)
    first = window.start.astimezone(tz).date() - timedelta(days=1)
    last = window.end.astimezone(tz).date() + timedelta(days=1)
    found = []
    day = first
    while day <= last:
        ranges = rules.ranges_on(day)
        for local in _ALL_DAY if ranges is None else ranges:
            start = wall_to_utc(day, local.start, tz, is_end=False)
            end = wall_to_utc(day, local.end, tz, is_end=True)
            if start < end and start < window.end and window.start < end:
                found.append(TimeWindow.unchecked(start, end))
        day += timedelta(days=1)
    return found


def merged(ranges: list[TimeWindow]) -> list[TimeWindow]:
    """Touching or overlapping ranges joined (a booking may run across midnight if both days are open)."""
    out: list[TimeWindow] = []
    for r in sorted(ranges):
        if out and r.start <= out[-1].end:
            if r.end > out[-1].end:
                out[-1] = TimeWindow.unchecked(out[-1].start, r.end)
        else:
            out.append(r)
    return out


def wall_to_utc(day: date, minutes: int, tz: zoneinfo.ZoneInfo, *, is_end: bool) -> datetime:
    """The instant the wall clock of ``tz`` shows ``minutes`` after midnight of ``day``."""
    if minutes == MINUTES_PER_DAY:
        day, minutes = day + timedelta(days=1), 0
    wall = datetime.combine(day, time(minutes // 60, minutes % 60))
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first == second:
        return first
    if first < second:  # repeated hour: the wall time happens twice
        return second if is_end else first
    return _transition(second, first, tz)  # skipped hour: the wall time never happens


def _transition(low: datetime, high: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    """The first instant in ``(low, high]`` at the offset ``high`` has (a gap's end), to the minute."""
    target = high.astimezone(tz).utcoffset()
    while high - low > timedelta(minutes=1):
        mid = low + (high - low) / 2
        mid = mid.replace(second=0, microsecond=0)
        if mid <= low:
            break
        if mid.astimezone(tz).utcoffset() == target:
            high = mid
        else:
            low = mid
    return high
