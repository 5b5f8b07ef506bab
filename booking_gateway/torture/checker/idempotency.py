"""Invariant 3: one clientMutationId makes at most one booking and gets one answer.

Per operation (the attempts sharing a mutation and a clientMutationId):

* ``two-bookings``: acknowledgements name different bookings.
* ``wrong-booking``: a cancel or reschedule acknowledgement names another booking than asked.
* ``not-as-asked``: a first (not replayed) acknowledgement shows something else than was asked:
  a booking of another resource or window or not at version 1, a reschedule elsewhere, a cancel
  that left the booking confirmed. (A replay shows the booking as it is now, so only its id and
  resource are checked.)
* ``two-answers``: one attempt acknowledged, another refused (anything but CONTENDED, which
  promises only that this attempt did nothing); or two SLOT_UNAVAILABLE with different conflicts.
* ``key-reused``: IDEMPOTENCY_KEY_REUSED, although every attempt sent the same input.
* ``stale-retry``: an attempt sent after a stored answer (success or SLOT_UNAVAILABLE) was
  received got CONTENDED instead of that answer.

Per booking in the final state:

* ``unowned``: no acknowledged or replayed answer ever named it: some request made a booking it
  never reported (a second booking for a key, or a refusal that wrote).
* ``two-owners``: acknowledgements of two different book operations name it.
"""

from __future__ import annotations

from collections.abc import Iterable

from booking_gateway.torture.checker.bookings import BookingFacts
from booking_gateway.torture.checker.ops import Operation
from booking_gateway.torture.checker.violations import Invariant, Violation, violation
from booking_gateway.torture.model import (
    CONFLICT_REFUSALS,
    CREATES,
    RETRYABLE_REFUSALS,
    STORED_REFUSALS,
    Attempt,
    BookingState,
    Kind,
    Outcome,
)

_I3 = Invariant.IDEMPOTENT


def check_operation(op: Operation) -> list[Violation]:
    found = _bookings_named(op) + _as_asked(op) + _answers_agree(op) + _stale_retries(op)
    found += [violation(_I3, "key-reused", "IDEMPOTENCY_KEY_REUSED for an identical input", [a])
              for a in op.attempts if a.code == "IDEMPOTENCY_KEY_REUSED"]
    return found


def _state(a: Attempt) -> BookingState:
    assert a.answer is not None and a.answer.booking is not None
    return a.answer.booking


def _bookings_named(op: Operation) -> list[Violation]:
    oks = op.oks
    found = []
    first: dict[str, Attempt] = {}
    for a in oks:
        first.setdefault(_state(a).id, a)
    if len(first) > 1:
        found.append(violation(_I3, "two-bookings", f"one clientMutationId acknowledged {len(first)} "
                               f"bookings: {', '.join(first)}", first.values()))
    if op.request.kind not in CREATES:
        found += [violation(_I3, "wrong-booking", f"asked about {op.request.booking}, answered about "
                            f"{_state(a).id}", [a]) for a in oks if _state(a).id != op.request.booking]
    return found


def _as_asked(op: Operation) -> list[Violation]:
    req = op.request
    found = []
    for a in op.oks:
        s = _state(a)
        problem = None
        if req.kind in CREATES and req.resource is not None and s.resource != req.resource:
            problem = f"booked resource {s.resource}, asked {req.resource}"
        elif req.kind is Kind.CANCEL and s.confirmed:
            problem = "cancel acknowledged but the booking it shows is confirmed"
        elif a.answer is not None and not a.answer.replayed:
            if req.kind is Kind.BOOK and (s.window != req.window or s.version != 1 or not s.confirmed):
                problem = f"booked {s.window} v{s.version} {s.status}, asked {req.window}"
            elif req.kind is Kind.RESCHEDULE and (s.window != req.window or not s.confirmed):
                problem = f"rescheduled to {s.window} {s.status}, asked {req.window}"
            elif req.kind is Kind.HOLD and (s.window != req.window or s.version != 1
                                            or s.status != "HELD"):
                problem = f"held {s.window} v{s.version} {s.status}, asked {req.window}"
            elif req.kind is Kind.CONFIRM and not s.confirmed:
                problem = f"confirm acknowledged but the booking it shows is {s.status}"
            elif req.kind is Kind.RELEASE and s.status not in ("RELEASED", "EXPIRED"):
                problem = f"release acknowledged but the hold it shows is {s.status}"
        if problem:
            found.append(violation(_I3, "not-as-asked", problem, [a]))
    return found


def _answers_agree(op: Operation) -> list[Violation]:
    refusals = [a for a in op.attempts if a.code is not None and a.code not in RETRYABLE_REFUSALS]
    found = []
    if op.oks and refusals:
        found.append(violation(_I3, "two-answers", f"acknowledged and refused ({refusals[0].code})",
                               [op.oks[0], refusals[0]]))
    unavailable = [a for a in refusals if a.code in CONFLICT_REFUSALS]
    sets = {tuple(sorted(a.answer.conflicts)) for a in unavailable if a.answer}
    if len(sets) > 1:
        found.append(violation(_I3, "two-answers", f"{unavailable[0].code} with different conflicts",
                               unavailable))
    return found


def _stale_retries(op: Operation) -> list[Violation]:
    stored = [a for a in op.attempts if a.outcome is Outcome.OK or a.code in STORED_REFUSALS]
    if not stored:
        return []
    known_at = min(a.completed for a in stored)
    return [violation(_I3, "stale-retry", "CONTENDED although the outcome was stored and answered "
                      "before this attempt was sent", [min(stored, key=lambda s: s.completed), a])
            for a in op.attempts if a.code in RETRYABLE_REFUSALS and a.invoked > known_at]


def check_owners(facts: Iterable[BookingFacts]) -> list[Violation]:
    found = []
    for f in facts:
        if f.final is not None and not f.observations:
            found.append(Violation(_I3, "unowned", f"booking {f.id} {f.final.window} ({f.final.status}) "
                                   "is in the database but no answer ever named it"))
        if len(f.creators) > 1:
            found.append(violation(_I3, "two-owners", f"booking {f.id} acknowledged to "
                                   f"{len(f.creators)} book operations",
                                   [c.oks[0] for c in f.creators]))
    return found
