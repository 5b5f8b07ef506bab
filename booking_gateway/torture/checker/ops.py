"""Attempts grouped into operations (one clientMutationId each), and what each may have done."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from booking_gateway.torture.model import (
    RETRYABLE_REFUSALS,
    STORED_REFUSALS,
    Attempt,
    Kind,
    Outcome,
    Phase,
    Request,
)


@dataclass(frozen=True)
class Operation:
    """Every attempt of one logical request: retries, double-click twins and replays."""

    attempts: tuple[Attempt, ...]

    @property
    def request(self) -> Request:
        return self.attempts[0].request

    @property
    def invoked(self) -> float:
        """When the first attempt was sent: no effect of this operation can be older."""
        return min(a.invoked for a in self.attempts)

    @property
    def oks(self) -> list[Attempt]:
        return [a for a in self.attempts if a.outcome is Outcome.OK]

    def _refused_for_good(self) -> bool:
        """A stored refusal (it binds the key for ever), or a definite refusal on replay (the key
        has no stored success once the run is quiescent, so no attempt ever took effect)."""
        return any(a.code in STORED_REFUSALS or (a.phase is Phase.REPLAY and a.outcome is Outcome.FAIL
                                                  and a.code not in RETRYABLE_REFUSALS)
                   for a in self.attempts)

    @property
    def may_have_taken_effect(self) -> bool:
        """Acknowledged, or an attempt's outcome is unknown and nothing since ruled an effect out."""
        if self.oks:
            return True
        return any(a.outcome is Outcome.UNKNOWN for a in self.attempts) and not self._refused_for_good()

    @property
    def settled_in_run(self) -> bool:
        """Needs no replay: acknowledged, refused for good, or every attempt definitely failed."""
        run = [a for a in self.attempts if a.phase is Phase.RUN]
        return (any(a.outcome is Outcome.OK or a.code in STORED_REFUSALS for a in run)
                or all(a.outcome is Outcome.FAIL for a in run))

    @property
    def resolved(self) -> bool:
        """Settled in the run, or a replay gave a definite answer (not CONTENDED, not unknown)."""
        return self.settled_in_run or any(
            a.phase is Phase.REPLAY and a.outcome is not Outcome.UNKNOWN and a.code not in RETRYABLE_REFUSALS
            for a in self.attempts)


def operations(attempts: Iterable[Attempt]) -> list[Operation]:
    """Group by (mutation, clientMutationId): the gateway's idempotency scope within one tenant."""
    groups: dict[tuple[Kind, str], list[Attempt]] = defaultdict(list)
    for a in attempts:
        groups[(a.request.kind, a.request.cmid)].append(a)
    return [Operation(tuple(sorted(g, key=lambda a: (a.invoked, a.seq)))) for g in groups.values()]
