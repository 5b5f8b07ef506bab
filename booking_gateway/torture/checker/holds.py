"""Invariant 6: a live hold blocks its window for everyone else, and only until it expires.

Holds expire on PostgreSQL's clock; the clients' clock is another one, and a decision is made
somewhere between an attempt's send and its answer. A hold H with ttlSeconds ``ttl`` is
therefore *surely live* from its first acknowledgement (it was committed before) until its first
attempt's send plus ``ttl`` minus :data:`HOLD_SKEW_S` (it was committed after that send),
unless a release, cancel or reschedule of H may have taken effect earlier. The rules:

* ``blocked``: a booking, hold or reschedule of another booking was acknowledged first-hand
  (not a replay) for a window overlapping H, sent and answered while H was surely live.
* ``expired-early``: a confirm of H got HOLD_EXPIRED, answered while H was surely live.
* ``outlived`` (in :mod:`.unavailable`): a SLOT_UNAVAILABLE or HOLD_EXPIRED whose conflict only
  holds could explain, every one of them past its expiry plus the skew.

A confirmed booking never overlaps another confirmed one: invariant 1, on the final state, which
also covers a confirm after expiry that should have been HOLD_EXPIRED.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping

from booking_gateway.torture.checker.bookings import BookingFacts
from booking_gateway.torture.checker.ops import Operation
from booking_gateway.torture.checker.unavailable import HOLD_SKEW_S
from booking_gateway.torture.checker.violations import Invariant, Violation, violation
from booking_gateway.torture.model import Kind

__all__ = ["HOLD_SKEW_S", "check_blocking", "check_confirm"]

_I6 = Invariant.HOLDS
_ACQUIRE = (Kind.BOOK, Kind.HOLD, Kind.RESCHEDULE)
_LETS_GO = (Kind.RELEASE, Kind.CANCEL, Kind.RESCHEDULE)


def surely_live(h: BookingFacts) -> tuple[float, float]:
    """(from, until) during which hold ``h`` certainly blocked its window; empty if from >= until."""
    if h.creator is None or not h.creator.oks:
        return math.inf, -math.inf
    since = min(a.completed for a in h.creator.oks)
    until = h.creator.invoked + (h.creator.request.ttl or 0) - HOLD_SKEW_S
    for kind in _LETS_GO:
        until = min([until, *(op.invoked for op in h.effective_changes(kind))])
    return since, until


def check_blocking(ops: Iterable[Operation], facts: Mapping[str, BookingFacts]) -> list[Violation]:
    holds: dict[str, list[BookingFacts]] = defaultdict(list)
    for f in facts.values():
        if f.is_hold and f.resource is not None:
            holds[f.resource].append(f)
    found = []
    for op in ops:
        if op.request.kind not in _ACQUIRE:
            continue
        for a in op.oks:
            if a.answer is None or a.answer.replayed or a.answer.booking is None:
                continue
            got = a.answer.booking
            for h in holds.get(got.resource, ()):
                window = h.initial_window
                if h.id == got.id or window is None or not window.overlaps(got.window):
                    continue
                since, until = surely_live(h)
                if since <= a.invoked and a.completed <= until:
                    assert h.creator is not None
                    found.append(violation(_I6, "blocked", f"{op.request.kind} {got.id} {got.window} "
                                           f"acknowledged at {a.invoked:.3f}s-{a.completed:.3f}s over "
                                           f"hold {h.id} {window}, live {since:.3f}s-{until:.3f}s",
                                           [h.creator.oks[0], a]))
    return found


def check_confirm(op: Operation, facts: Mapping[str, BookingFacts]) -> list[Violation]:
    booking = op.request.booking
    if op.request.kind is not Kind.CONFIRM or booking is None or booking not in facts:
        return []
    h = facts[booking]
    since, until = surely_live(h)
    return [violation(_I6, "expired-early", f"confirm of hold {h.id} answered HOLD_EXPIRED at "
                      f"{a.invoked:.3f}s-{a.completed:.3f}s, the hold was live {since:.3f}s-{until:.3f}s",
                      [a])
            for a in op.attempts if a.code == "HOLD_EXPIRED" and since <= a.invoked
            and a.completed <= until]
