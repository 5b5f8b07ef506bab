"""holdSlot, confirmBooking and releaseHold against the fakes: expiry on the store's clock
(the fake clock, advanced instead of slept), versions, replays and the events published."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from booking_gateway.domain.book_slot import book_slot
from booking_gateway.domain.change_booking import cancel_booking, reschedule_booking
from booking_gateway.domain.commands import (
    BookSlot,
    CancelBooking,
    ConfirmBooking,
    HoldSlot,
    ReleaseHold,
    RescheduleBooking,
)
from booking_gateway.domain.errors import (
    HoldExpired,
    IdempotencyKeyReused,
    NotFound,
    SlotUnavailable,
    ValidationFailed,
    VersionConflict,
)
from booking_gateway.domain.hold_rules import HoldLimits, hold_seconds
from booking_gateway.domain.holds import confirm_booking, hold_slot, release_hold
from booking_gateway.domain.model import Booking, BookingStatus, Resource
from booking_gateway.domain.ports import ChangeReason

from .fakes import Fakes, window

TENANT = uuid4()


async def held(ttl: int | None = 60, start: float = 9, end: float = 10) -> tuple[Fakes, Resource, Booking]:
    fakes = Fakes()
    room = fakes.store.add_resource(TENANT)
    w = window(start, end)
    result = await hold_slot(fakes.deps, HoldSlot(TENANT, "hold", room.id, w.start, w.end, ttl))
    assert result.value is not None, result.error
    return fakes, room, result.value


async def book(fakes: Fakes, room: Resource, start: float, end: float, key: str) -> Booking | None:
    w = window(start, end)
    return (await book_slot(fakes.deps, BookSlot(TENANT, key, room.id, w.start, w.end))).value


def test_ttl_defaults_and_bounds() -> None:
    limits = HoldLimits(max_seconds=900, default_seconds=300)
    assert hold_seconds(None, limits) == 300
    assert hold_seconds(900, limits) == 900
    for bad in (0, -5, 901):
        with pytest.raises(ValidationFailed) as err:
            hold_seconds(bad, limits)
        assert err.value.field == "ttlSeconds"
        assert "900" in err.value.message
    assert hold_seconds(None, HoldLimits(max_seconds=60, default_seconds=300)) == 60


async def test_a_hold_expires_on_the_stores_clock_and_blocks_until_then() -> None:
    fakes, room, hold = await held(ttl=60)
    assert hold.status is BookingStatus.HELD
    assert hold.expires_at == fakes.clock.now() + timedelta(seconds=60)
    assert fakes.events.events[-1].reason is ChangeReason.HELD
    assert await book(fakes, room, 9.5, 11, "early") is None
    fakes.clock.advance(timedelta(seconds=59))
    assert await book(fakes, room, 9.5, 11, "still") is None
    fakes.clock.advance(timedelta(seconds=1))
    after = await book(fakes, room, 9.5, 11, "after")
    assert after is not None
    ended = await fakes.store.get_booking(TENANT, hold.id)
    assert ended is not None
    assert ended.status is BookingStatus.EXPIRED


async def test_confirm_in_time_bumps_the_version_and_publishes() -> None:
    fakes, _, hold = await held()
    done = await confirm_booking(fakes.deps, ConfirmBooking(TENANT, "c", hold.id, 1))
    assert done.value is not None
    assert (done.value.status, done.value.version) == (BookingStatus.CONFIRMED, 2)
    assert fakes.events.events[-1].reason is ChangeReason.CONFIRMED
    again = await confirm_booking(fakes.deps, ConfirmBooking(TENANT, "c", hold.id, 1))
    assert again.replayed
    assert again.value == done.value
    reused = await confirm_booking(fakes.deps, ConfirmBooking(TENANT, "c", hold.id, 2))
    assert isinstance(reused.error, IdempotencyKeyReused)


async def test_confirm_with_a_stale_version_is_a_version_conflict() -> None:
    fakes, _, hold = await held()
    stale = await confirm_booking(fakes.deps, ConfirmBooking(TENANT, "c", hold.id, 3))
    assert isinstance(stale.error, VersionConflict)
    assert stale.error.current_version == 1


async def test_confirm_after_expiry_takes_a_free_window() -> None:
    fakes, _, hold = await held(ttl=10)
    fakes.clock.advance(timedelta(seconds=11))
    done = await confirm_booking(fakes.deps, ConfirmBooking(TENANT, "c", hold.id, 1))
    assert done.value is not None
    assert done.value.status is BookingStatus.CONFIRMED


async def test_confirm_after_expiry_of_a_taken_window_is_hold_expired_and_stored() -> None:
    fakes, room, hold = await held(ttl=10)
    fakes.clock.advance(timedelta(seconds=11))
    assert await book(fakes, room, 9.5, 11, "winner") is not None
    lost = await confirm_booking(fakes.deps, ConfirmBooking(TENANT, "c", hold.id, 1))
    assert isinstance(lost.error, HoldExpired)
    assert lost.error.conflicts == (window(9.5, 11),)
    replay = await confirm_booking(fakes.deps, ConfirmBooking(TENANT, "c", hold.id, 1))
    assert replay.replayed
    assert isinstance(replay.error, HoldExpired)


async def test_release_frees_the_window_once() -> None:
    fakes, room, hold = await held()
    done = await release_hold(fakes.deps, ReleaseHold(TENANT, "r", hold.id))
    assert done.value is not None
    assert (done.value.status, done.value.version) == (BookingStatus.RELEASED, 2)
    assert fakes.events.events[-1].reason is ChangeReason.RELEASED
    published = len(fakes.events.events)
    again = await release_hold(fakes.deps, ReleaseHold(TENANT, "r2", hold.id))
    assert again.value is not None
    assert again.value.status is BookingStatus.RELEASED
    assert len(fakes.events.events) == published  # nothing changed, nothing announced
    assert await book(fakes, room, 9, 10, "b") is not None
    refused = await confirm_booking(fakes.deps, ConfirmBooking(TENANT, "c", hold.id, 2))
    assert isinstance(refused.error, ValidationFailed)
    assert refused.error.field == "bookingId"


async def test_a_confirmed_booking_is_not_released() -> None:
    fakes, room, _ = await held()
    booking = await book(fakes, room, 12, 13, "b")
    assert booking is not None
    refused = await release_hold(fakes.deps, ReleaseHold(TENANT, "r", booking.id))
    assert isinstance(refused.error, ValidationFailed)


async def test_another_tenants_hold_is_not_found() -> None:
    fakes, _, hold = await held()
    for outcome in (await confirm_booking(fakes.deps, ConfirmBooking(uuid4(), "c", hold.id, 1)),
                    await release_hold(fakes.deps, ReleaseHold(uuid4(), "r", hold.id))):
        assert isinstance(outcome.error, NotFound)


async def test_a_hold_can_be_cancelled_but_not_rescheduled() -> None:
    fakes, room, hold = await held()
    w = window(12, 13)
    moved = await reschedule_booking(fakes.deps, RescheduleBooking(TENANT, "m", hold.id, w.start, w.end))
    assert isinstance(moved.error, ValidationFailed)
    assert "release" in moved.error.message
    cancelled = await cancel_booking(fakes.deps, CancelBooking(TENANT, "x", hold.id))
    assert cancelled.value is not None
    assert cancelled.value.status is BookingStatus.CANCELLED
    assert await book(fakes, room, 9, 10, "b") is not None


async def test_a_live_hold_refuses_another_hold() -> None:
    fakes, room, _ = await held()
    w = window(9.5, 10.5)
    other = await hold_slot(fakes.deps, HoldSlot(TENANT, "h2", room.id, w.start, w.end))
    assert isinstance(other.error, SlotUnavailable)
