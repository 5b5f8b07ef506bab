"""Everything the history says about each booking: who made it, who changed it, who saw it."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from booking_gateway.torture.checker.ops import Operation
from booking_gateway.torture.model import CREATES, Attempt, BookingState, Kind, Span


@dataclass
class BookingFacts:
    id: str
    #: book operations whose acknowledgement named this booking (exactly one, if all is well)
    creators: list[Operation] = field(default_factory=list)
    #: the booking as each acknowledged answer showed it
    observations: list[tuple[BookingState, Attempt]] = field(default_factory=list)
    #: cancel and reschedule operations aimed at it
    changes: list[Operation] = field(default_factory=list)
    final: BookingState | None = None

    @property
    def creator(self) -> Operation | None:
        return self.creators[0] if self.creators else None

    @property
    def resource(self) -> str | None:
        if self.creator is not None:
            return self.creator.request.resource
        if self.observations:
            return self.observations[0][0].resource
        return self.final.resource if self.final else None

    @property
    def initial_window(self) -> Span | None:
        return self.creator.request.window if self.creator else None

    def effective_changes(self, kind: Kind) -> list[Operation]:
        return [op for op in self.changes if op.request.kind is kind and op.may_have_taken_effect]

    def gone_after(self, version: int) -> float:
        """An upper bound of when the state at ``version`` ended: the first answer showing a later
        version (or a cancellation, which is final) was complete by then."""
        return min((a.completed for s, a in self.observations
                    if s.version > version or s.ended_for_good), default=math.inf)

    def cancelled_by(self) -> float:
        """An upper bound of when the booking stopped blocking in any window (cancelled, released)."""
        return min((a.completed for s, a in self.observations if s.ended_for_good), default=math.inf)

    @property
    def is_hold(self) -> bool:
        return self.creator is not None and self.creator.request.kind is Kind.HOLD


def index_bookings(ops: Iterable[Operation], final: Iterable[BookingState]) -> dict[str, BookingFacts]:
    facts: dict[str, BookingFacts] = defaultdict(lambda: BookingFacts(""))

    def of(booking_id: str) -> BookingFacts:
        found = facts[booking_id]
        found.id = booking_id
        return found

    for op in ops:
        if op.request.kind not in CREATES and op.request.booking is not None:
            of(op.request.booking).changes.append(op)
        named: set[str] = set()
        for a in op.oks:
            assert a.answer is not None and a.answer.booking is not None
            state = a.answer.booking
            of(state.id).observations.append((state, a))
            named.add(state.id)
        if op.request.kind in CREATES:
            for booking_id in named:
                of(booking_id).creators.append(op)
    for state in final:
        of(state.id).final = state
    return dict(facts)
