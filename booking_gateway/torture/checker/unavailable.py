"""Invariant 4: every SLOT_UNAVAILABLE was true when given.

The rule. A SLOT_UNAVAILABLE answer of operation O, received at ``done``, was decided at some
instant between O's first attempt being sent (``asked``; a replayed refusal was decided by an
earlier attempt) and ``done``. It is true if each conflict window ``c`` it lists

* ``empty``: exists (the list is not empty),
* ``disjoint``: overlaps the requested window (widened on both sides by the run's buffers, when
  it has rules: two bookings conflict when their buffered windows overlap), and
* ``phantom``: was the window of a confirmed booking B of the same resource (for a reschedule,
  another booking than the one moved) at some instant of [asked, done]. The history bounds when
  B had window ``c``:

  - from no earlier than the first attempt of the operation that gave B that window: B's book
    operation (version 1) or a reschedule of B to ``c`` that may have taken effect;
  - until no later than the first acknowledged answer showing B at a later version (for the
    state at a known version: the booking's v1, or the version a first-hand reschedule
    acknowledgement reported) or showing B cancelled (a cancellation ends every window of B).

  ``c`` is a phantom if no such (B, c) interval meets [asked, done]: then no confirmed booking
  can have had that window while the answer was being decided.

  A hold H blocks its window like a confirmed booking: from its hold operation's first attempt
  until its expiry (no later than H's first acknowledgement plus ttlSeconds plus
  :data:`~booking_gateway.torture.checker.holds.HOLD_SKEW_S`), or, if a confirm of H may have
  taken effect, as long as a booking would. A conflict that only holds could explain, all of
  them past that bound, is reported as ``outlived`` under the holds invariant (6).

HOLD_EXPIRED answers (a confirm of an expired hold whose window was taken) list conflicts too
and are checked the same way, against the hold's window, the hold itself excluded.

Timestamps are the client's monotonic clock, read before sending and after receiving, so the
bounds only ever widen the intervals: the rule can miss a lie, never invent one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from booking_gateway.torture.checker.bookings import BookingFacts
from booking_gateway.torture.checker.ops import Operation
from booking_gateway.torture.checker.violations import Invariant, Violation, violation
from booking_gateway.torture.model import CONFLICT_REFUSALS, CREATES, Attempt, Kind, Span

_I4 = Invariant.TRUE_UNAVAILABLE
#: allowance between the database's clock (which expires holds) and the clients' observations
HOLD_SKEW_S = 1.0


@dataclass(frozen=True, slots=True)
class Tenure:
    """Booking ``booking`` may have been confirmed in its window from ``since`` until ``until``."""

    booking: str
    since: float
    until: float
    #: a hold's tenure, ending at its expiry
    hold: bool = False

    def meets(self, start: float, end: float) -> bool:
        return self.since <= end and self.until >= start


Tenures = dict[tuple[str, Span], list[Tenure]]


def tenures(facts: Iterable[BookingFacts]) -> Tenures:
    """Every (resource, window) a booking may have been confirmed in, with its time bounds."""
    found: Tenures = defaultdict(list)
    for f in facts:
        resource = f.resource
        if resource is None:
            continue
        if f.creator is None:  # in the database, never acknowledged: invariant 3 fails it anyway
            if f.final is not None:
                found[(resource, f.final.window)].append(Tenure(f.id, -math.inf, math.inf))
            continue
        assert f.initial_window is not None
        found[(resource, f.initial_window)].append(_first_tenure(f))
        for move in f.effective_changes(Kind.RESCHEDULE):
            assert move.request.window is not None
            found[(resource, move.request.window)].append(
                Tenure(f.id, move.invoked, _move_until(f, move)))
    return found


def _first_tenure(f: BookingFacts) -> Tenure:
    assert f.creator is not None
    if not f.is_hold:
        return Tenure(f.id, f.creator.invoked, f.gone_after(1))
    if f.effective_changes(Kind.CONFIRM):  # confirming keeps the window (at a new version)
        return Tenure(f.id, f.creator.invoked, f.cancelled_by())
    return Tenure(f.id, f.creator.invoked, min(hold_expiry_bound(f), f.cancelled_by()), hold=True)


def hold_expiry_bound(f: BookingFacts) -> float:
    """No hold outlives this instant: its first acknowledgement (after its commit) + ttl + skew."""
    assert f.creator is not None and f.creator.oks
    ttl = f.creator.request.ttl or 0
    return min(a.completed for a in f.creator.oks) + ttl + HOLD_SKEW_S


def _move_until(facts: BookingFacts, move: Operation) -> float:
    first_hand = [a.answer.booking for a in move.oks
                  if a.answer is not None and a.answer.booking is not None and not a.answer.replayed
                  and a.answer.booking.window == move.request.window]
    if first_hand:
        return facts.gone_after(first_hand[0].version)
    return facts.cancelled_by()


def check_operation(op: Operation, facts: dict[str, BookingFacts], known: Tenures,
                    slack: timedelta = timedelta()) -> list[Violation]:
    req = op.request
    resource, moved, window = req.resource, None, req.window
    if req.kind not in CREATES:
        moved = req.booking
        resource = facts[moved].resource if moved in facts else None
        if req.kind is Kind.CONFIRM and moved in facts:
            window = facts[moved].initial_window
    if resource is None or window is None:
        return []
    found = []
    for a in op.attempts:
        if a.code in CONFLICT_REFUSALS and a.answer is not None:
            widened = Span(window.start - slack, window.end + slack) if slack else window
            found += _check_answer(a, op.invoked, widened, resource, moved, known)
    return found


def _check_answer(a: Attempt, asked: float, window: Span, resource: str, moved: str | None,
                  known: Tenures) -> list[Violation]:
    assert a.answer is not None
    if not a.answer.conflicts:
        return [violation(_I4, "empty", "SLOT_UNAVAILABLE without conflicts", [a])]
    found = []
    for c in a.answer.conflicts:
        if not c.overlaps(window):
            found.append(violation(_I4, "disjoint", f"conflict {c} does not overlap {window}", [a]))
        candidates = [t for t in known.get((resource, c), []) if t.booking != moved]
        if not any(t.meets(asked, a.completed) for t in candidates):
            seen = "; ".join(f"{t.booking} from {t.since:.3f}s until {t.until:.3f}s" for t in candidates)
            if candidates and all(t.hold for t in candidates):
                found.append(violation(Invariant.HOLDS, "outlived", f"{a.code} by conflict {c} on "
                                       f"resource {resource} at {asked:.3f}s-{a.completed:.3f}s, but "
                                       f"every hold of that window had expired ({seen})", [a]))
                continue
            found.append(violation(_I4, "phantom", f"conflict {c} on resource {resource}: no confirmed "
                                   f"booking had it between {asked:.3f}s and {a.completed:.3f}s"
                                   + (f" (only: {seen})" if seen else ""), [a]))
    return found
