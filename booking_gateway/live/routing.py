"""Which subscribed views a burst of changes touches, and what each of them is told.

Pure functions over domain values: no I/O, no clock, no asyncio. A view is what a group of
listeners asks about one resource: a window's availability (a :class:`TimeWindow`) or its
bookable starts (a :class:`SlotsView`). The hub calls :func:`plan` once per burst of one
resource's changes, reads the state once per view it returns, and fans the resulting
:class:`LiveEvent` values out to the listeners of that view.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from booking_gateway.domain.bookable_slots import BookableSlots
from booking_gateway.domain.model import Availability
from booking_gateway.domain.ports import AvailabilityChanged, ChangeReason
from booking_gateway.domain.schedule import MAX_BUFFER_MINUTES
from booking_gateway.domain.time_window import TimeWindow

#: A booking blocks its window widened by the buffers it was booked with, and a candidate start
#: is widened by today's buffers: each up to this, so a change this far away can move a start.
_SLOT_REACH = 2 * timedelta(minutes=MAX_BUFFER_MINUTES)


@dataclass(frozen=True, slots=True)
class SlotsView:
    """A bookableSlotsChanged subscription's question about each of its resources."""

    window: TimeWindow
    duration_minutes: int
    step_minutes: int | None

    @property
    def reach(self) -> TimeWindow:
        """The changes that can move a start of the window: those overlapping this."""
        return TimeWindow.unchecked(self.window.start - _SLOT_REACH,
                                    self.window.end + timedelta(minutes=self.duration_minutes) + _SLOT_REACH)


#: What a group of listeners watches on a resource: availability of a window, or its slots.
View = TimeWindow | SlotsView
#: What one read of a view gives: the fresh state a live event carries.
LiveState = Availability | BookableSlots


@dataclass(frozen=True, slots=True)
class Touch:
    """One change as a subscriber of ``window`` sees it: why, and which part of the window."""

    reason: ChangeReason
    changed: TimeWindow


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """What a subscription sends: a reason, the changed part, the fresh state of the whole view.

    One event object goes to every listener of a view; ``shared`` lets the GraphQL layer
    render it once for all of them.
    """

    resource_id: UUID
    reason: ChangeReason
    changed: TimeWindow
    state: LiveState
    shared: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def version(self) -> int:
        return self.state.version

    @property
    def availability(self) -> Availability:
        if not isinstance(self.state, Availability):
            raise TypeError("not an availability event")
        return self.state

    @property
    def slots(self) -> BookableSlots:
        if not isinstance(self.state, BookableSlots):
            raise TypeError("not a bookable-slots event")
        return self.state

    @property
    def content(self) -> object | None:
        """What the client is shown that a later event may merely repeat (then not sent): the
        starts of slots; None for availability, where every change is told."""
        return self.state.starts if isinstance(self.state, BookableSlots) else None


def changed_part(window: TimeWindow, changed: TimeWindow) -> TimeWindow | None:
    """The part of a subscribed ``window`` that a change of ``changed`` touches, if any."""
    return window.intersection(changed)


def window_of(view: View) -> TimeWindow:
    return view if isinstance(view, TimeWindow) else view.window


def plan(views: Iterable[View], changes: Sequence[AvailabilityChanged],
         resync: bool = False) -> dict[View, list[Touch]]:
    """Per subscribed view, what its subscribers are told about ``changes`` (one resource's burst).

    Views that no change touches are absent: they cost no read and send nothing. Changes
    come out in version order (pub/sub from several processes may reorder them). With
    ``resync`` (the subscriber connection came back, so changes may have been missed) every
    view is told, first with a SNAPSHOT of the whole window.
    """
    ordered = sorted(changes, key=lambda c: c.version)
    answer: dict[View, list[Touch]] = {}
    for view in views:
        reach = view if isinstance(view, TimeWindow) else view.reach
        touches = [Touch(ChangeReason.SNAPSHOT, window_of(view))] if resync else []
        touches += [Touch(c.reason, part) for c in ordered
                    if (part := changed_part(reach, c.changed)) is not None]
        if touches:
            answer[view] = touches
    return answer


def events(resource_id: UUID, touches: Sequence[Touch], state: LiveState) -> list[LiveEvent]:
    """The events of one view's touches, all carrying the one fresh ``state``.

    Availability tells each change; slots are one event per burst, with the newest reason:
    a list of starts says nothing about which change removed which.
    """
    if isinstance(state, BookableSlots):
        covered = touches[0].changed
        for touch in touches[1:]:
            covered = covered.hull(touch.changed)
        return [LiveEvent(resource_id, touches[-1].reason, covered, state)]
    return [LiveEvent(resource_id, t.reason, t.changed, state) for t in touches]
