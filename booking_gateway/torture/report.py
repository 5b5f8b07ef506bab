"""The table a run ends with, computed from the history alone (so ``torture check`` prints it too)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from booking_gateway.torture.checker import CheckResult, Invariant
from booking_gateway.torture.model import Attempt, Fault, History, Kind, Outcome, Phase

REDIS_DOWN = ("redis-restart", "redis-drop")


@dataclass(frozen=True)
class Summary:
    header: str
    operations: Counter[str]
    attempts: Counter[str]
    rejected: Counter[str]
    unknown: Counter[str]
    left_unknown: int
    resolved_by_replay: int
    faults: Counter[str]
    bookings_while_redis_down: int
    confirmed_at_end: int
    reconcile_overlaps: int | None
    violations: dict[Invariant, int]
    weakened: bool = False
    examples: list[str] = field(default_factory=list)
    weakened_holds: bool = False
    #: the rules counter-proof: gateways that skip the rules check (BOOKING_UNSAFE_NO_RULES)
    weakened_rules: bool = False

    @property
    def proof_held(self) -> bool:
        """Normal build: no violation. Weakened build: the checker caught the double bookings;
        weakened holds: it caught bookings over live holds; weakened rules: it caught bookings
        outside the rules."""
        if self.weakened:
            return self.violations[Invariant.NO_OVERLAP] > 0
        if self.weakened_holds:
            return self.violations[Invariant.HOLDS] > 0
        if self.weakened_rules:
            return self.violations[Invariant.RULES] > 0
        return not any(self.violations.values()) and not self.reconcile_overlaps

    def to_json(self) -> dict[str, Any]:
        return {
            "header": self.header, "operations": dict(self.operations), "attempts": dict(self.attempts),
            "rejected": dict(self.rejected), "unknown": dict(self.unknown),
            "left_unknown": self.left_unknown, "resolved_by_replay": self.resolved_by_replay,
            "faults": dict(self.faults), "bookings_while_redis_down": self.bookings_while_redis_down,
            "confirmed_at_end": self.confirmed_at_end, "reconcile_overlaps": self.reconcile_overlaps,
            "violations": {str(i.value): n for i, n in self.violations.items()},
            "weakened": self.weakened, "weakened_holds": self.weakened_holds, "weakened_rules": self.weakened_rules,
            "proof_held": self.proof_held, "examples": self.examples,
        }


def summarize(history: History, result: CheckResult, *, header: str, reconcile_overlaps: int | None,
              weakened: bool = False, examples: int = 10, weakened_holds: bool = False,
              weakened_rules: bool = False) -> Summary:
    attempts = history.attempts
    left = [op for op in result.operations if not op.settled_in_run]
    return Summary(
        header=header,
        operations=Counter(op.request.kind.value for op in result.operations),
        attempts=Counter(_attempt_kinds(attempts)),
        rejected=Counter(a.code or _note(a) for a in attempts if a.outcome is Outcome.FAIL),
        unknown=Counter(_note(a) for a in attempts if a.outcome is Outcome.UNKNOWN),
        left_unknown=len(left),
        resolved_by_replay=sum(op.resolved for op in left),
        faults=Counter(f.name for f in history.faults),
        bookings_while_redis_down=bookings_while_redis_down(attempts, history.faults),
        confirmed_at_end=sum(b.confirmed for b in history.final),
        reconcile_overlaps=reconcile_overlaps,
        violations=result.per_invariant,
        weakened=weakened,
        weakened_rules=weakened_rules,
        examples=[str(v) for v in result.violations[:examples]],
        weakened_holds=weakened_holds,
    )


def _attempt_kinds(attempts: Iterable[Attempt]) -> Iterable[str]:
    for a in attempts:
        yield "all"
        yield a.outcome.value
        if a.phase is Phase.REPLAY:
            yield "replay"
        if a.clicks > 1:
            yield "double-click"


def _note(a: Attempt) -> str:
    return (a.note or a.outcome.value).split(":")[0]


def bookings_while_redis_down(attempts: Iterable[Attempt], faults: Iterable[Fault]) -> int:
    """New bookings (first-hand acknowledgements) whose whole request fell inside a Redis outage."""
    down = [(f.start, f.end) for f in faults if f.name in REDIS_DOWN]
    return sum(1 for a in attempts
               if a.request.kind is Kind.BOOK and a.outcome is Outcome.OK and a.answer is not None
               and not a.answer.replayed and any(s <= a.invoked and a.completed <= e for s, e in down))


def _breakdown(counts: Mapping[str, int]) -> str:
    return " · ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def render(s: Summary) -> str:
    rows: list[tuple[str, str, str]] = [
        ("operations", f"{s.operations.total():,}", _breakdown(s.operations)),
        ("attempts", f"{s.attempts['all']:,}",
         f"double-click twins {s.attempts['double-click']:,} · replays {s.attempts['replay']:,}"),
        ("  acknowledged (ok)", f"{s.attempts['ok']:,}", ""),
        ("  rejected (definite)", f"{s.attempts['fail']:,}", _breakdown(s.rejected)),
        ("  unknown", f"{s.attempts['unknown']:,}", _breakdown(s.unknown)),
        ("operations left unknown", f"{s.left_unknown:,}", f"resolved by replay {s.resolved_by_replay:,}"),
        ("faults injected", f"{s.faults.total():,}", _breakdown(s.faults)),
        ("bookings made while Redis was down", f"{s.bookings_while_redis_down:,}",
         "killed, or cut off by the proxy"),
        ("confirmed bookings at the end", f"{s.confirmed_at_end:,}", ""),
        ("overlaps found by reconcile", "-" if s.reconcile_overlaps is None else f"{s.reconcile_overlaps:,}",
         "booking-gateway reconcile, on the final database"),
    ]
    invariants = [(f"{i.value} {i.title}", f"{s.violations[i]:,}") for i in Invariant]
    width = max(len(label) for label, *_ in [*rows, *invariants]) + 2
    lines = [s.header, ""]
    lines += [f"{label:<{width}}{value:>10}  {note}".rstrip() for label, value, note in rows]
    lines += ["", f"{'invariant':<{width}}{'violations':>10}"]
    lines += [f"{label:<{width}}{value:>10}" for label, value in invariants]
    if s.examples:
        lines += ["", "first violations:"] + [f"  {e}" for e in s.examples]
    lines += ["", _verdict(s)]
    return "\n".join(lines)


def _verdict(s: Summary) -> str:
    total = sum(s.violations.values())
    if s.weakened_rules:
        return (f"RESULT: counter-proof held: the build without the rules check booked outside the "
                f"rules and the checker caught it ({s.violations[Invariant.RULES]:,} violations)"
                if s.proof_held else
                "RESULT: COUNTER-PROOF FAILED: the build without the rules check booked nothing the "
                "rules checker found")
    if s.weakened:
        return (f"RESULT: counter-proof held: the weakened build double-booked and the checker caught it "
                f"({total:,} violations)" if s.proof_held else
                "RESULT: COUNTER-PROOF FAILED: the weakened build made no double booking the checker found")
    if s.weakened_holds:
        held = s.violations[Invariant.HOLDS]
        return (f"RESULT: counter-proof held: holds that block nothing were caught ({held:,} holds "
                "violations)" if s.proof_held else
                "RESULT: COUNTER-PROOF FAILED: the checker found no booking over a live hold")
    return "RESULT: PASS (zero violations)" if s.proof_held else f"RESULT: FAIL ({total:,} violations)"
