"""A subscription's buffer: bounded, the latest state wins, versions never go back (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from booking_gateway.domain.bookable_slots import BookableSlots
from booking_gateway.domain.model import Availability
from booking_gateway.domain.ports import ChangeReason
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.live.mailbox import Mailbox
from booking_gateway.live.routing import LiveEvent

T0 = datetime(2027, 6, 1, tzinfo=UTC)
WINDOW = TimeWindow(T0, T0 + timedelta(days=1))
ROOM, DESK = uuid.uuid4(), uuid.uuid4()


def event(resource: uuid.UUID, version: int, hour: int = 1,
          reason: ChangeReason = ChangeReason.BOOKED) -> LiveEvent:
    changed = TimeWindow(T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1))
    return LiveEvent(resource, reason, changed, Availability.from_bookings(resource, WINDOW, [], version))


def test_events_come_out_in_order() -> None:
    box = Mailbox(per_resource=4)
    for version in (1, 2, 3):
        box.put(event(ROOM, version))
    box.put(event(DESK, 1))
    assert [(e.resource_id, e.version) for e in box.take()] == [(ROOM, 1), (ROOM, 2), (ROOM, 3), (DESK, 1)]
    assert len(box) == 0
    assert box.take() == []


def test_a_consumer_behind_gets_the_latest_state_with_everything_that_changed() -> None:
    box = Mailbox(per_resource=3)
    for version in range(1, 11):
        box.put(event(ROOM, version, hour=version))
    box.put(event(DESK, 1))
    pending = box.take()
    assert len(pending) <= 4, "bounded: at most per_resource events of ROOM, plus DESK's"
    room = [e for e in pending if e.resource_id == ROOM]
    assert room[-1].version == 10
    covered = room[0].changed
    for e in room[1:]:
        covered = covered.hull(e.changed)
    assert covered == TimeWindow(T0 + timedelta(hours=1), T0 + timedelta(hours=11))
    assert [e.resource_id for e in pending].count(DESK) == 1
    assert box.folded >= 7


def test_a_folded_event_gets_a_rendering_cache_of_its_own() -> None:
    box = Mailbox(per_resource=1)
    first, second = event(ROOM, 1), event(ROOM, 2)
    second.shared["graphql"] = "rendered for the unfolded event"
    box.put(first)
    box.put(second)
    (folded,) = box.take()
    assert folded.version == 2
    assert folded.shared == {}


def test_never_a_version_lower_than_one_sent() -> None:
    box = Mailbox()
    box.sent(event(ROOM, 5, reason=ChangeReason.SNAPSHOT))  # the first SNAPSHOT, sent directly
    box.put(event(ROOM, 4))  # read before the snapshot, delivered after it
    box.put(event(ROOM, 5))
    box.put(event(DESK, 1))
    box.put(event(ROOM, 6))
    box.put(event(ROOM, 5))
    assert [(e.resource_id, e.version) for e in box.take()] == [(ROOM, 5), (DESK, 1), (ROOM, 6)]


def test_the_bound_must_allow_one_event() -> None:
    with pytest.raises(ValueError, match="per_resource"):
        Mailbox(per_resource=0)


def slots_event(version: int, starts: list[datetime]) -> LiveEvent:
    return LiveEvent(ROOM, ChangeReason.BOOKED, WINDOW,
                     BookableSlots(ROOM, WINDOW, timedelta(hours=1), starts, version, 1))


def test_starts_that_repeat_what_was_sent_are_not_sent_and_their_version_still_counts() -> None:
    box = Mailbox()
    nine, ten = T0 + timedelta(hours=9), T0 + timedelta(hours=10)
    box.sent(slots_event(3, [nine, ten]))  # the SNAPSHOT
    box.put(slots_event(4, [nine, ten]))  # a change elsewhere in the reach: nothing moved
    box.put(slots_event(5, [ten]))
    box.put(slots_event(6, [ten]))
    assert [(e.version, e.slots.starts) for e in box.take()] == [(5, [ten])]
    assert box.repeated == 2
    box.put(slots_event(4, [nine, ten]))  # read long ago: older than what was skipped
    box.put(slots_event(7, [nine, ten]))
    assert [e.version for e in box.take()] == [7]


def test_availability_events_are_sent_even_when_they_look_the_same() -> None:
    box = Mailbox()
    box.sent(event(ROOM, 1, reason=ChangeReason.SNAPSHOT))
    box.put(event(ROOM, 2))
    box.put(event(ROOM, 3))
    assert [e.version for e in box.take()] == [2, 3]
    assert box.repeated == 0
