"""Invariant 1, on the final database state: no two confirmed bookings of a resource overlap."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from booking_gateway.torture.checker.bookings import BookingFacts
from booking_gateway.torture.checker.violations import Invariant, Violation, violation
from booking_gateway.torture.model import BookingState


def overlapping_pairs(final: Iterable[BookingState]) -> list[tuple[BookingState, BookingState]]:
    """Every overlapping pair of confirmed bookings (what ``reconcile`` counts), by a sweep per
    resource: each booking against those still open when it starts."""
    by_resource: dict[str, list[BookingState]] = defaultdict(list)
    for b in final:
        if b.confirmed:
            by_resource[b.resource].append(b)
    pairs: list[tuple[BookingState, BookingState]] = []
    for bookings in by_resource.values():
        open_: list[BookingState] = []
        for b in sorted(bookings, key=lambda b: (b.window.start, b.window.end, b.id)):
            open_ = [o for o in open_ if o.window.end > b.window.start]
            pairs.extend((o, b) for o in open_)
            open_.append(b)
    return pairs


def check_overlaps(final: Iterable[BookingState], facts: Mapping[str, BookingFacts]) -> list[Violation]:
    """One violation per overlapping pair; the evidence is the answers that acknowledged them."""
    found = []
    for a, b in overlapping_pairs(final):
        told = [f.observations[0][1] for f in (facts.get(a.id), facts.get(b.id)) if f and f.observations]
        found.append(violation(Invariant.NO_OVERLAP, "overlap", f"bookings {a.id} {a.window} and "
                               f"{b.id} {b.window} of resource {a.resource} are both confirmed", told))
    return found
