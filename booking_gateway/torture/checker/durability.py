"""Invariant 2: what was acknowledged is in the final state, and the final state has no change
that no request could have made.

Every acknowledged answer shows its booking at some version; versions grow with every change,
so per booking:

* ``lost``: an acknowledged booking is not in the database.
* ``one-version-two-states``: two answers (or an answer and the database) show one version of a
  booking with different windows or statuses.
* ``rolled-back``: the final version is older than an acknowledged one, or equal to the newest
  acknowledged one but with another window or status.
* ``uncancelled``: a cancellation was acknowledged, the booking is confirmed (there is no way
  back from cancelled).
* ``unexplained``: the final state needs a request that cannot have taken effect: cancelled
  without a cancel operation that may have taken effect, a window that neither the booking
  request nor any reschedule that may have taken effect asked for, or more versions than such
  operations. ("May have taken effect": acknowledged, or unknown and never refused for good;
  see :class:`~booking_gateway.torture.checker.ops.Operation`.)
"""

from __future__ import annotations

from booking_gateway.torture.checker.bookings import BookingFacts
from booking_gateway.torture.checker.violations import Invariant, Violation, violation
from booking_gateway.torture.model import Attempt, BookingState, Kind

_I2 = Invariant.DURABLE


def check_booking(facts: BookingFacts) -> list[Violation]:
    if not facts.observations:
        return []  # never acknowledged: invariant 3 reports it ("unowned") if it exists
    first = facts.observations[0][1]
    if facts.final is None:
        return [violation(_I2, "lost", f"acknowledged booking {facts.id} is not in the database",
                          [first])]
    return _versions_agree(facts) + _newest_kept(facts, facts.final) + _explained(facts, facts.final)


def _versions_agree(facts: BookingFacts) -> list[Violation]:
    seen: dict[int, tuple[BookingState, Attempt | None]] = {}
    found = []
    pairs: list[tuple[BookingState, Attempt | None]] = [*facts.observations]
    if facts.final is not None:
        pairs.append((facts.final, None))
    for state, attempt in pairs:
        prior = seen.setdefault(state.version, (state, attempt))
        if prior[0].durable_state != state.durable_state:
            shown = [a for a in (prior[1], attempt) if a is not None]
            found.append(violation(_I2, "one-version-two-states", f"booking {facts.id} v{state.version} "
                                   f"shown as {prior[0].window} {prior[0].status} and {state.window} "
                                   f"{state.status}", shown))
    return found


def _newest_kept(facts: BookingFacts, final: BookingState) -> list[Violation]:
    newest, attempt = max(facts.observations, key=lambda o: o[0].version)
    found = []
    if final.version < newest.version or (
            final.version == newest.version and final.durable_state != newest.durable_state):
        found.append(violation(_I2, "rolled-back", f"booking {facts.id} acknowledged as v{newest.version} "
                               f"{newest.window} {newest.status}, database has v{final.version} "
                               f"{final.window} {final.status}", [attempt]))
    cancels = [a for s, a in facts.observations if s.ended_for_good]
    if cancels and final.confirmed:
        found.append(violation(_I2, "uncancelled", f"booking {facts.id} was acknowledged cancelled, the "
                               "database has it confirmed", cancels[:1]))
    return found


def _explained(facts: BookingFacts, final: BookingState) -> list[Violation]:
    if facts.creator is None:
        return []
    cancels = facts.effective_changes(Kind.CANCEL)
    moves = facts.effective_changes(Kind.RESCHEDULE)
    confirms = facts.effective_changes(Kind.CONFIRM)
    releases = facts.effective_changes(Kind.RELEASE)
    windows = {facts.initial_window} | {op.request.window for op in moves}
    changes = len(cancels) + len(moves) + len(confirms) + len(releases)
    problems = []
    # how the final status can have come about: (status, possible, what it needs)
    needs = {"CANCELLED": (bool(cancels), "a cancel"), "RELEASED": (bool(releases), "a release"),
             "CONFIRMED": (not facts.is_hold or bool(confirms), "a confirm"),
             "HELD": (facts.is_hold, "a hold"), "EXPIRED": (facts.is_hold, "a hold")}
    possible, what = needs.get(final.status, (False, "a known status"))
    if not possible:
        problems.append(f"it is {final.status}, but no {what.split(' ', 1)[1]} may have taken effect")
    if final.window not in windows:
        problems.append(f"its window {final.window} was asked by no request that may have taken effect")
    if final.version - 1 > changes:
        problems.append(f"it is at v{final.version} after at most {changes} changes")
    return [violation(_I2, "unexplained", f"booking {facts.id}: {p}", [facts.observations[0][1]])
            for p in problems]
