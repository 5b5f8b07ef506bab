"""Which subscribed windows a burst of changes touches, and what each is told (pure, no server)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from booking_gateway.domain.bookable_slots import BookableSlots
from booking_gateway.domain.model import Availability
from booking_gateway.domain.ports import AvailabilityChanged, ChangeReason
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.live.routing import SlotsView, Touch, changed_part, events, plan

T0 = datetime(2027, 6, 1, tzinfo=UTC)
TENANT, RESOURCE = uuid.uuid4(), uuid.uuid4()


def w(start_h: float, end_h: float) -> TimeWindow:
    return TimeWindow(T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h))


def change(start_h: float, end_h: float, version: int,
           reason: ChangeReason = ChangeReason.BOOKED) -> AvailabilityChanged:
    return AvailabilityChanged(TENANT, RESOURCE, reason, w(start_h, end_h), version)


def test_the_changed_part_is_the_intersection_and_half_open() -> None:
    assert changed_part(w(8, 12), w(11, 14)) == w(11, 12)
    assert changed_part(w(8, 12), w(9, 10)) == w(9, 10)
    assert changed_part(w(8, 12), w(12, 13)) is None  # touching is not overlapping
    assert changed_part(w(8, 12), w(6, 8)) is None


def test_windows_a_burst_does_not_touch_cost_no_read() -> None:
    morning, evening = w(8, 12), w(18, 22)
    work = plan([morning, evening], [change(9, 10, 3), change(11, 13, 4)])
    assert list(work) == [morning]
    assert work[morning] == [Touch(ChangeReason.BOOKED, w(9, 10)), Touch(ChangeReason.BOOKED, w(11, 12))]


def test_changes_come_out_in_version_order_whatever_the_arrival_order() -> None:
    day = w(0, 24)
    work = plan([day], [change(9, 10, 7, ChangeReason.CANCELLED), change(1, 2, 5),
                        change(3, 4, 6, ChangeReason.RESCHEDULED)])
    assert [t.reason for t in work[day]] == [ChangeReason.BOOKED, ChangeReason.RESCHEDULED,
                                             ChangeReason.CANCELLED]


def test_a_resync_tells_every_window_a_snapshot_first() -> None:
    morning, evening = w(8, 12), w(18, 22)
    work = plan([morning, evening], [change(9, 10, 3)], resync=True)
    assert work[evening] == [Touch(ChangeReason.SNAPSHOT, evening)]
    assert work[morning] == [Touch(ChangeReason.SNAPSHOT, morning), Touch(ChangeReason.BOOKED, w(9, 10))]


def test_nothing_to_do_without_changes_or_windows() -> None:
    assert plan([w(0, 1)], []) == {}
    assert plan([], [change(0, 1, 1)]) == {}


def test_events_of_a_window_share_one_fresh_availability() -> None:
    window = w(8, 12)
    fresh = Availability.from_bookings(RESOURCE, window, [w(9, 10)], 9)
    made = events(RESOURCE, [Touch(ChangeReason.BOOKED, w(9, 10)), Touch(ChangeReason.CANCELLED, w(11, 12))],
                  fresh)
    assert [(e.reason, e.changed, e.version) for e in made] == [
        (ChangeReason.BOOKED, w(9, 10), 9), (ChangeReason.CANCELLED, w(11, 12), 9)]
    assert all(e.availability is fresh for e in made)


def slots(window: TimeWindow, starts: list[datetime], version: int) -> BookableSlots:
    return BookableSlots(RESOURCE, window, timedelta(hours=1), starts, version, 1)


def test_a_slots_view_is_touched_by_changes_as_far_as_two_buffers_and_the_duration_away() -> None:
    view = SlotsView(w(0, 24), duration_minutes=60, step_minutes=30)
    assert view.reach == w(-48, 73)
    work = plan([view, w(0, 24)], [change(50, 51, 3), change(73, 74, 4)])
    assert list(work) == [view], "availability of the day is not touched; its slots may be"
    assert work[view] == [Touch(ChangeReason.BOOKED, w(50, 51))]
    assert plan([view], [change(9, 10, 5)], resync=True)[view][0] == Touch(ChangeReason.SNAPSHOT, w(0, 24))


def test_slots_are_one_event_per_burst_with_the_newest_reason() -> None:
    fresh = slots(w(8, 12), [T0], 9)
    (made,) = events(RESOURCE, [Touch(ChangeReason.BOOKED, w(9, 10)), Touch(ChangeReason.CANCELLED, w(11, 12))],
                     fresh)
    assert (made.reason, made.changed, made.version, made.slots) == (ChangeReason.CANCELLED, w(9, 12), 9, fresh)
    assert made.content == [T0]
