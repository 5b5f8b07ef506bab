"""Invariant 7, on the final database state: nothing is booked outside the rules.

A run with rules (``--rules``) sets one rules document on every resource before the workload
starts and never changes it, so the rules that held at any booking's time are the run's rules
(the history's meta). The rule, with arithmetic of its own (not the gateway's), for the shape of
rules the run uses (UTC resources, the same hours every weekday, no range across midnight):

* ``closed``: every confirmed booking lies inside one opening range of its day;
* ``too-long`` / ``too-short``: it lasts within the duration bounds;
* ``buffer``: no two confirmed bookings of a resource come closer than the buffers (the earlier
  one's end plus the after-buffer plus the later one's before-buffer is not past the later start).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from booking_gateway.torture.checker.violations import Invariant, Violation, violation
from booking_gateway.torture.model import BookingState

_I7 = Invariant.RULES
_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _inside_hours(rules: Mapping[str, Any], start: datetime, end: datetime) -> bool:
    weekly = rules.get("weekly")
    if weekly is None:
        return True
    day = _DAYS[start.weekday()]
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    for entry in weekly:
        if entry["day"] != day:
            continue
        for r in entry["ranges"]:
            opens = midnight + timedelta(minutes=_minutes(r["start"]))
            closes = midnight + timedelta(minutes=_minutes(r["end"]))
            if opens <= start and end <= closes:
                return True
    return False


def check_rules(final: Iterable[BookingState], rules: Mapping[str, Any] | None) -> list[Violation]:
    if rules is None:
        return []
    found = []
    longest = rules.get("maxDurationMinutes")
    shortest = rules.get("minDurationMinutes")
    by_resource: dict[str, list[BookingState]] = defaultdict(list)
    for b in final:
        if not b.confirmed:
            continue
        by_resource[b.resource].append(b)
        w = b.window
        if not _inside_hours(rules, w.start, w.end):
            found.append(violation(_I7, "closed", f"booking {b.id} {w} of resource {b.resource} is "
                                                  "outside the opening hours"))
        minutes = (w.end - w.start) / timedelta(minutes=1)
        if longest is not None and minutes > longest:
            found.append(violation(_I7, "too-long", f"booking {b.id} {w} lasts {minutes:g} minutes, "
                                                    f"more than {longest}"))
        if shortest is not None and minutes < shortest:
            found.append(violation(_I7, "too-short", f"booking {b.id} {w} lasts {minutes:g} minutes, "
                                                     f"less than {shortest}"))
    gap = buffers(rules)
    if gap:
        for bookings in by_resource.values():
            latest: BookingState | None = None  # of the earlier ones, the one ending last
            for b in sorted(bookings, key=lambda b: (b.window.start, b.window.end)):
                a = latest
                if a is not None and a.window.end + gap > b.window.start and a.window.end <= b.window.start:
                    found.append(violation(_I7, "buffer", f"bookings {a.id} {a.window} and {b.id} "
                                                          f"{b.window} of resource {a.resource} are "
                                                          f"closer than the buffers ({gap})"))
                if latest is None or b.window.end > latest.window.end:
                    latest = b
    return found


def buffers(rules: Mapping[str, Any] | None) -> timedelta:
    """Both buffers together: how far apart two bookings' windows must stay."""
    if rules is None:
        return timedelta()
    return timedelta(minutes=rules.get("bufferBeforeMinutes", 0) + rules.get("bufferAfterMinutes", 0))
