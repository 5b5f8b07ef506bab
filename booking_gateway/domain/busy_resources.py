"""Which resources refused someone lately: it decides the order of a booking's first steps.

DESIGN.md's pre-check (a lock-free read that answers SLOT_UNAVAILABLE before the lock) is
what keeps rejections on a busy resource from queueing behind the lock. On a quiet
resource it finds nothing and costs a database round trip for every booking: there the
booking goes straight for the lock, and the commit, which re-checks everything under the
lock anyway, decides. A resource joins this set when a booking on it is refused (an
overlap, a held lock, contention) and leaves it after ``memory_s`` of quiet. The order is
only a matter of cost: both orders give the same answers, and the constraint in the
database keeps the promise either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

#: How long a refusal keeps a resource on the pre-check-first path.
MEMORY_S = 2.0
#: Remembered resources per process; past it, the quiet ones are forgotten first.
CAPACITY = 10_000


class BusyResources:
    """An in-process, bounded memory of recent refusals (one per process, never shared)."""

    __slots__ = ("_capacity", "_clock", "_memory_s", "_until")

    def __init__(self, memory_s: float = MEMORY_S, capacity: int = CAPACITY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._memory_s = memory_s
        self._capacity = capacity
        self._clock = clock
        self._until: dict[UUID, float] = {}

    def refused(self, resource_id: UUID) -> None:
        """A booking on ``resource_id`` was refused or had to wait."""
        until = self._until
        until.pop(resource_id, None)  # re-insert: the dict stays ordered by last refusal
        until[resource_id] = self._clock() + self._memory_s
        if len(until) > self._capacity:
            self._forget_quiet()

    def busy(self, resource_id: UUID) -> bool:
        until = self._until.get(resource_id)
        return until is not None and until > self._clock()

    def __len__(self) -> int:
        return len(self._until)

    def _forget_quiet(self) -> None:
        now = self._clock()
        for resource_id in [r for r, until in self._until.items() if until <= now]:
            del self._until[resource_id]
        excess = len(self._until) - self._capacity
        for resource_id in list(self._until)[:max(excess, 0)]:  # oldest refusals first
            del self._until[resource_id]
