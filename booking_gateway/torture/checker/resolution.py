"""Invariant 5: every operation whose outcome stayed unknown is resolved by replaying it.

After the run (faults healed, every gateway of the run stopped, so no attempt is still in
flight), each operation that was neither acknowledged, refused for good, nor failed on every
attempt is sent again with the same clientMutationId and input. The replay must give a definite
answer (``unresolved`` otherwise); that answer must then agree with the rest of the history, which
the other rules check: a violation whose evidence includes a replay is counted here.
"""

from __future__ import annotations

from booking_gateway.torture.checker.ops import Operation
from booking_gateway.torture.checker.violations import Invariant, Violation


def check_operation(op: Operation) -> list[Violation]:
    if op.resolved:
        return []
    last = op.attempts[-1]
    return [Violation(Invariant.UNKNOWN_RESOLVED, "unresolved",
                      f"outcome still unknown after {len(op.attempts)} attempts "
                      f"(last: {last.code or last.note or last.outcome})", (last.ref,))]
