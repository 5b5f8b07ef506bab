"""The checker: a pure function from a history and the final database state to violations.

Each invariant has its module, whose docstring states its rules exactly:
:mod:`.overlap` (1), :mod:`.durability` (2), :mod:`.idempotency` (3), :mod:`.unavailable` (4),
:mod:`.resolution` (5), :mod:`.holds` (6), :mod:`.schedule` (7).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from booking_gateway.torture.checker import (
    durability,
    holds,
    idempotency,
    overlap,
    resolution,
    schedule,
    unavailable,
)
from booking_gateway.torture.checker.bookings import index_bookings
from booking_gateway.torture.checker.ops import Operation, operations
from booking_gateway.torture.checker.violations import Invariant, Violation
from booking_gateway.torture.model import History

__all__ = ["CheckResult", "Invariant", "Violation", "check"]


@dataclass(frozen=True)
class CheckResult:
    violations: tuple[Violation, ...]
    operations: tuple[Operation, ...]

    @property
    def per_invariant(self) -> dict[Invariant, int]:
        counts = Counter(v.invariant for v in self.violations)
        return {inv: counts.get(inv, 0) for inv in Invariant}

    @property
    def ok(self) -> bool:
        return not self.violations


def check(history: History) -> CheckResult:
    ops = operations(history.attempts)
    facts = index_bookings(ops, history.final)
    known = unavailable.tenures(facts.values())
    found: list[Violation] = overlap.check_overlaps(history.final, facts)
    found += schedule.check_rules(history.final, history.rules)
    slack = schedule.buffers(history.rules)
    for f in facts.values():
        found += durability.check_booking(f)
    found += idempotency.check_owners(facts.values())
    found += holds.check_blocking(ops, facts)
    for op in ops:
        found += idempotency.check_operation(op)
        found += unavailable.check_operation(op, facts, known, slack)
        found += resolution.check_operation(op)
        found += holds.check_confirm(op, facts)
    return CheckResult(tuple(found), tuple(ops))
