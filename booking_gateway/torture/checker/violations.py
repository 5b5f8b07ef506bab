"""What the checker reports: a broken invariant, the rule that caught it, and the evidence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from booking_gateway.torture.model import Attempt, Phase


class Invariant(IntEnum):
    """DESIGN.md's four invariants, the resolution of unknown outcomes, holds and rules (issue 14)."""

    NO_OVERLAP = 1
    DURABLE = 2
    IDEMPOTENT = 3
    TRUE_UNAVAILABLE = 4
    UNKNOWN_RESOLVED = 5
    HOLDS = 6
    RULES = 7

    @property
    def title(self) -> str:
        return _TITLES[self]


_TITLES = {
    Invariant.NO_OVERLAP: "no two confirmed bookings of a resource overlap",
    Invariant.DURABLE: "acknowledged bookings and changes are durable",
    Invariant.IDEMPOTENT: "one booking and one answer per clientMutationId",
    Invariant.TRUE_UNAVAILABLE: "every SLOT_UNAVAILABLE was true when given",
    Invariant.UNKNOWN_RESOLVED: "unknown outcomes resolve consistently on replay",
    Invariant.HOLDS: "a live hold blocks its window, and only until it expires",
    Invariant.RULES: "nothing is booked outside the resources' rules (hours, durations, buffers)",
}


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: Invariant
    rule: str
    detail: str
    evidence: tuple[str, ...] = ()

    def __str__(self) -> str:
        refs = "; ".join(self.evidence)
        return f"[{self.invariant.value} {self.rule}] {self.detail}" + (f" <- {refs}" if refs else "")


def violation(invariant: Invariant, rule: str, detail: str, attempts: Iterable[Attempt] = ()) -> Violation:
    """A violation whose evidence includes a replay is counted against invariant 5: the replay of
    an unknown outcome is what contradicted the rest of the history."""
    attempts = tuple(attempts)
    if any(a.phase is Phase.REPLAY for a in attempts) and invariant is not Invariant.NO_OVERLAP:
        invariant = Invariant.UNKNOWN_RESOLVED
    return Violation(invariant, rule, detail, tuple(a.ref for a in attempts))
