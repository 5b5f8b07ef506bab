"""Which subscribed windows a burst of changes touches, and what each of them is told.

Pure functions over domain values: no I/O, no clock, no asyncio. The hub calls :func:`plan`
once per burst of one resource's changes, reads availability once per window it returns, and
fans the resulting :class:`LiveEvent` values out to the listeners of that window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from booking_gateway.domain.model import Availability
from booking_gateway.domain.ports import AvailabilityChanged, ChangeReason
from booking_gateway.domain.time_window import TimeWindow


@dataclass(frozen=True, slots=True)
class Touch:
    """One change as a subscriber of ``window`` sees it: why, and which part of the window."""

    reason: ChangeReason
    changed: TimeWindow


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """What a subscription sends: a reason, the changed part, the fresh state of the whole window.

    One event object goes to every listener of a window; ``shared`` lets the GraphQL layer
    render it once for all of them.
    """

    resource_id: UUID
    reason: ChangeReason
    changed: TimeWindow
    availability: Availability
    shared: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def version(self) -> int:
        return self.availability.version


def changed_part(window: TimeWindow, changed: TimeWindow) -> TimeWindow | None:
    """The part of a subscribed ``window`` that a change of ``changed`` touches, if any."""
    return window.intersection(changed)


def plan(windows: Iterable[TimeWindow], changes: Sequence[AvailabilityChanged],
         resync: bool = False) -> dict[TimeWindow, list[Touch]]:
    """Per subscribed window, what its subscribers are told about ``changes`` (one resource's burst).

    Windows that no change touches are absent: they cost no read and send nothing. Changes
    come out in version order (pub/sub from several processes may reorder them). With
    ``resync`` (the subscriber connection came back, so changes may have been missed) every
    window is told, first with a SNAPSHOT of the whole window.
    """
    ordered = sorted(changes, key=lambda c: c.version)
    answer: dict[TimeWindow, list[Touch]] = {}
    for window in windows:
        touches = [Touch(ChangeReason.SNAPSHOT, window)] if resync else []
        touches += [Touch(c.reason, part) for c in ordered
                    if (part := changed_part(window, c.changed)) is not None]
        if touches:
            answer[window] = touches
    return answer


def events(resource_id: UUID, touches: Sequence[Touch], availability: Availability) -> list[LiveEvent]:
    """The events of one window's touches, all carrying the one fresh ``availability``."""
    return [LiveEvent(resource_id, t.reason, t.changed, availability) for t in touches]
