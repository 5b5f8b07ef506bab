from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from booking_gateway.domain.book_slot import book_slot
from booking_gateway.domain.change_booking import cancel_booking, reschedule_booking
from booking_gateway.domain.commands import BookSlot, CancelBooking, RescheduleBooking
from booking_gateway.domain.errors import (
    Contended,
    IdempotencyKeyReused,
    NotFound,
    SlotUnavailable,
    ValidationFailed,
    VersionConflict,
)
from booking_gateway.domain.idempotency import IdempotencyKey, Mutation, OutcomeKind, StoredOutcome
from booking_gateway.domain.model import Booking, BookingStatus, Resource
from booking_gateway.domain.ports import (
    AvailabilityChanged,
    ChangeReason,
    Claim,
    ConflictSpace,
    OverlapViolation,
    StoreContention,
)

from .fakes import Fakes, window

TENANT = uuid4()


async def booked(start: float = 9, end: float = 10) -> tuple[Fakes, Resource, Booking]:
    fakes = Fakes()
    room = fakes.store.add_resource(TENANT)
    w = window(start, end)
    result = await book_slot(fakes.deps, BookSlot(TENANT, "book", room.id, w.start, w.end))
    assert result.value is not None
    fakes.events.events.clear()
    fakes.lock.requests.clear()
    fakes.lock.released.clear()
    fakes.clock.advance(timedelta(hours=1))
    return fakes, room, result.value


def cancel(booking: Booking, key: str = "c1", expected_version: int | None = None) -> CancelBooking:
    return CancelBooking(TENANT, key, booking.id, expected_version)


def move(booking: Booking, start: float, end: float, key: str = "r1",
         expected_version: int | None = None) -> RescheduleBooking:
    w = window(start, end)
    return RescheduleBooking(TENANT, key, booking.id, w.start, w.end, expected_version)


async def stored(fakes: Fakes, booking: Booking) -> Booking:
    found = await fakes.store.get_booking(TENANT, booking.id)
    assert found is not None
    return found


# --- cancel -----------------------------------------------------------------------------------


async def test_cancel_bumps_the_version_and_publishes_cancelled() -> None:
    fakes, room, booking = await booked()

    result = await cancel_booking(fakes.deps, cancel(booking, expected_version=1))

    assert result.error is None
    assert not result.replayed
    assert result.value is not None
    assert result.value.status is BookingStatus.CANCELLED
    assert result.value.version == 2
    assert result.value.updated_at == fakes.clock.now()
    assert result.value.created_at == booking.created_at
    assert await stored(fakes, booking) == result.value
    assert fakes.store.version(room.id) == 2
    assert fakes.events.events == [
        AvailabilityChanged(TENANT, room.id, ChangeReason.CANCELLED, window(9, 10), 2)]
    key = IdempotencyKey(TENANT, Mutation.CANCEL_BOOKING, "c1")
    assert fakes.store.outcomes[key].kind is OutcomeKind.SUCCEEDED
    assert fakes.store.units[-1].committed


async def test_a_cancelled_window_can_be_booked_again() -> None:
    fakes, room, booking = await booked()
    await cancel_booking(fakes.deps, cancel(booking))
    w = window(9, 10)

    again = await book_slot(fakes.deps, BookSlot(TENANT, "book-2", room.id, w.start, w.end))

    assert again.value is not None
    assert again.value.id != booking.id


async def test_cancel_with_a_stale_version_is_a_version_conflict() -> None:
    fakes, _room, booking = await booked()
    await reschedule_booking(fakes.deps, move(booking, 11, 12))

    result = await cancel_booking(fakes.deps, cancel(booking, expected_version=1))

    assert isinstance(result.error, VersionConflict)
    assert result.error.current_version == 2
    assert (await stored(fakes, booking)).status is BookingStatus.CONFIRMED
    assert [e.reason for e in fakes.events.events] == [ChangeReason.RESCHEDULED]
    assert IdempotencyKey(TENANT, Mutation.CANCEL_BOOKING, "c1") not in fakes.store.outcomes


async def test_expected_version_must_be_positive() -> None:
    fakes, _, booking = await booked()

    result = await cancel_booking(fakes.deps, cancel(booking, expected_version=0))

    assert isinstance(result.error, ValidationFailed)
    assert result.error.field == "expectedVersion"
    assert (await stored(fakes, booking)).confirmed


async def test_cancelling_a_cancelled_booking_succeeds_and_changes_nothing() -> None:
    fakes, room, booking = await booked()
    first = await cancel_booking(fakes.deps, cancel(booking, "c1"))
    fakes.clock.advance(timedelta(minutes=1))

    second = await cancel_booking(fakes.deps, cancel(booking, "c2"))

    assert second.error is None
    assert not second.replayed
    assert second.value == first.value
    assert fakes.store.version(room.id) == 2
    assert len(fakes.events.events) == 1


async def test_a_replayed_cancel_returns_the_first_answer_despite_a_stale_version() -> None:
    fakes, _, booking = await booked()
    first = await cancel_booking(fakes.deps, cancel(booking, expected_version=1))

    again = await cancel_booking(fakes.deps, cancel(booking, expected_version=1))

    assert again.replayed
    assert again.error is None
    assert again.value == first.value
    assert again.value is not None
    assert again.value.version == 2
    assert len(fakes.events.events) == 1


async def test_a_cancel_key_reused_for_another_booking_is_refused() -> None:
    fakes, room, booking = await booked()
    other = fakes.store.add_booking(room, window(14, 15))
    await cancel_booking(fakes.deps, cancel(booking))

    result = await cancel_booking(fakes.deps, cancel(other))

    assert isinstance(result.error, IdempotencyKeyReused)
    assert (await stored(fakes, other)).confirmed


async def test_cancelling_another_tenants_booking_is_not_found() -> None:
    fakes, _, _ = await booked()
    foreign = fakes.store.add_resource(uuid4())
    theirs = fakes.store.add_booking(foreign, window(9, 10))

    result = await cancel_booking(fakes.deps, cancel(theirs))

    assert isinstance(result.error, NotFound)
    assert result.error.object_id == theirs.id
    assert fakes.store.state.bookings[theirs.id].confirmed
    assert fakes.events.events == []


async def test_a_cancel_racing_the_same_key_on_another_booking_loses_cleanly() -> None:
    fakes, room, booking = await booked()
    other = fakes.store.add_booking(room, window(14, 15))

    async def concurrent_reuse() -> None:
        assert (await cancel_booking(fakes.deps, cancel(other))).error is None

    fakes.store.before("uow.store_outcome", concurrent_reuse)

    result = await cancel_booking(fakes.deps, cancel(booking))

    # the key went to the other request; what this one wrote is rolled back
    assert isinstance(result.error, IdempotencyKeyReused)
    assert (await stored(fakes, booking)).confirmed
    assert not (await stored(fakes, other)).confirmed
    assert fakes.store.version(room.id) == 3  # the first booking, the other one, its cancel
    assert fakes.store.units[0].rolled_back
    assert [e.changed for e in fakes.events.events] == [window(14, 15)]


# --- reschedule -------------------------------------------------------------------------------


async def test_reschedule_moves_the_booking_and_publishes_the_hull() -> None:
    fakes, room, booking = await booked(9, 10)
    held_during_update: list[list[ConflictSpace]] = []
    fakes.store.before("uow.update_booking",
                       lambda: held_during_update.append(list(fakes.lock.held)))

    result = await reschedule_booking(fakes.deps, move(booking, 14, 15.5, expected_version=1))

    assert result.error is None
    assert result.value is not None
    assert result.value.window == window(14, 15.5)
    assert result.value.version == 2
    assert result.value.status is BookingStatus.CONFIRMED
    assert result.value.updated_at == fakes.clock.now()
    assert await stored(fakes, booking) == result.value
    assert fakes.events.events == [
        AvailabilityChanged(TENANT, room.id, ChangeReason.RESCHEDULED, window(9, 15.5), 2)]
    assert held_during_update == [[ConflictSpace(TENANT, (Claim(room.id, window(14, 15.5)),))]]
    assert fakes.lock.held == []


async def test_reschedule_may_overlap_the_bookings_own_window() -> None:
    fakes, _, booking = await booked(9, 10)

    result = await reschedule_booking(fakes.deps, move(booking, 9.5, 11))

    assert result.value is not None
    assert result.value.window == window(9.5, 11)


async def test_reschedule_onto_another_booking_is_slot_unavailable() -> None:
    fakes, room, booking = await booked(9, 10)
    blocker = fakes.store.add_booking(room, window(11, 12))

    result = await reschedule_booking(fakes.deps, move(booking, 9.5, 11.5))

    assert isinstance(result.error, SlotUnavailable)
    assert result.error.conflicts == (blocker.window,)
    assert await stored(fakes, booking) == booking
    assert fakes.events.events == []
    key = IdempotencyKey(TENANT, Mutation.RESCHEDULE_BOOKING, "r1")
    assert fakes.store.outcomes[key].kind is OutcomeKind.SLOT_UNAVAILABLE

    fakes.store.cancel(blocker.id)
    again = await reschedule_booking(fakes.deps, move(booking, 9.5, 11.5))

    assert again.replayed
    assert isinstance(again.error, SlotUnavailable)
    assert again.error.conflicts == (blocker.window,)
    assert await stored(fakes, booking) == booking


async def test_rescheduling_to_the_same_window_changes_nothing() -> None:
    fakes, room, booking = await booked(9, 10)

    result = await reschedule_booking(fakes.deps, move(booking, 9, 10, expected_version=1))

    assert result.error is None
    assert result.value == booking
    assert await stored(fakes, booking) == booking
    assert fakes.store.version(room.id) == 1
    assert fakes.events.events == []


async def test_a_cancelled_booking_cannot_be_rescheduled() -> None:
    fakes, _, booking = await booked()
    await cancel_booking(fakes.deps, cancel(booking))

    result = await reschedule_booking(fakes.deps, move(booking, 11, 12))

    assert isinstance(result.error, ValidationFailed)
    assert result.error.field == "bookingId"
    assert (await stored(fakes, booking)).window == window(9, 10)
    assert fakes.lock.requests == []


async def test_a_booking_cancelled_while_waiting_for_the_lock_is_not_moved() -> None:
    fakes, _, booking = await booked()
    fakes.store.before("uow.booking_for_update", lambda: fakes.store.cancel(booking.id))

    result = await reschedule_booking(fakes.deps, move(booking, 11, 12))

    assert isinstance(result.error, ValidationFailed)
    assert result.error.field == "bookingId"
    assert (await stored(fakes, booking)).window == window(9, 10)


async def test_reschedule_with_a_stale_version_is_a_version_conflict() -> None:
    fakes, _, booking = await booked()
    await reschedule_booking(fakes.deps, move(booking, 11, 12, key="r0"))

    result = await reschedule_booking(fakes.deps, move(booking, 13, 14, expected_version=1))

    assert isinstance(result.error, VersionConflict)
    assert result.error.current_version == 2
    assert (await stored(fakes, booking)).window == window(11, 12)


async def test_a_concurrent_booking_under_a_degraded_lock_is_slot_unavailable() -> None:
    fakes, room, booking = await booked(9, 10)
    fakes.lock.degraded = True
    winner: list[Booking] = []
    # the other booking commits after our overlap read, so only the constraint sees it
    fakes.store.before("uow.update_booking",
                       lambda: winner.append(fakes.store.add_booking(room, window(13.5, 14.5))))

    result = await reschedule_booking(fakes.deps, move(booking, 13, 14))

    assert isinstance(result.error, SlotUnavailable)
    assert result.error.conflicts == (window(13.5, 14.5),)
    assert await stored(fakes, booking) == booking
    assert fakes.store.version(room.id) == 2  # the winner's bump only
    assert fakes.events.events == []
    key = IdempotencyKey(TENANT, Mutation.RESCHEDULE_BOOKING, "r1")
    assert fakes.store.outcomes[key].conflicts == (winner[0].window,)


async def test_an_overlap_violation_with_nothing_left_to_show_is_contended() -> None:
    fakes, room, booking = await booked(9, 10)
    fakes.lock.degraded = True
    winner: list[Booking] = []
    fakes.store.before("uow.update_booking",
                       lambda: winner.append(fakes.store.add_booking(room, window(13, 14))))
    fakes.store.before("overlapping", lambda: fakes.store.cancel(winner[0].id))

    result = await reschedule_booking(fakes.deps, move(booking, 13, 14))

    assert isinstance(result.error, Contended)
    assert IdempotencyKey(TENANT, Mutation.RESCHEDULE_BOOKING, "r1") not in fakes.store.outcomes
    assert await stored(fakes, booking) == booking


async def test_reschedule_contended_on_the_lock_changes_nothing() -> None:
    fakes, _, booking = await booked()
    fakes.lock.contended_retry_after_ms = 120

    result = await reschedule_booking(fakes.deps, move(booking, 11, 12))

    assert isinstance(result.error, Contended)
    assert result.error.retry_after_ms == 120
    assert await stored(fakes, booking) == booking
    assert fakes.store.units == []
    assert fakes.store.outcomes.keys() == {IdempotencyKey(TENANT, Mutation.BOOK_SLOT, "book")}


async def test_a_replayed_reschedule_returns_the_first_answer() -> None:
    fakes, _, booking = await booked()
    first = await reschedule_booking(fakes.deps, move(booking, 11, 12, expected_version=1))

    again = await reschedule_booking(fakes.deps, move(booking, 11, 12, expected_version=1))
    reused = await reschedule_booking(fakes.deps, move(booking, 12, 13, expected_version=2))

    assert again.replayed
    assert again.value == first.value
    assert len(fakes.events.events) == 1
    assert isinstance(reused.error, IdempotencyKeyReused)


NINE, TEN = window(9, 10).start, window(9, 10).end


@pytest.mark.parametrize(("start", "end", "field"), [
    (NINE.replace(tzinfo=None), TEN, "start"),
    (NINE, TEN.replace(tzinfo=None), "end"),
    (NINE, NINE, "end"),
    (TEN, NINE, "end"),
    (NINE, NINE + timedelta(days=31, seconds=1), "end"),
])
async def test_invalid_reschedule_input_names_the_field(start: datetime, end: datetime,
                                                        field: str) -> None:
    fakes, _, booking = await booked(11, 12)

    result = await reschedule_booking(fakes.deps,
                                      RescheduleBooking(TENANT, "r1", booking.id, start, end))

    assert isinstance(result.error, ValidationFailed)
    assert result.error.field == field
    assert fakes.lock.requests == []
    assert await stored(fakes, booking) == booking
    assert fakes.store.outcomes.keys() == {IdempotencyKey(TENANT, Mutation.BOOK_SLOT, "book")}


async def test_rescheduling_another_tenants_booking_is_not_found() -> None:
    fakes, _, _ = await booked()
    theirs = fakes.store.add_booking(fakes.store.add_resource(uuid4()), window(9, 10))

    result = await reschedule_booking(fakes.deps, move(theirs, 11, 12))

    assert isinstance(result.error, NotFound)
    assert fakes.store.state.bookings[theirs.id].window == window(9, 10)
    assert fakes.lock.requests == []


# --- the unit of work contract (the real one is held to the same in tests/integration) --------


async def test_an_exception_inside_the_unit_of_work_leaves_nothing_changed() -> None:
    fakes, room, booking = await booked()
    before = fakes.store.state.copy()
    key = IdempotencyKey(TENANT, Mutation.CANCEL_BOOKING, "c1")

    async def cancel_then_fail() -> None:
        async with fakes.store.unit_of_work() as uow:
            await uow.update_booking(booking.cancelled(fakes.clock.now()))
            assert await uow.bump_availability_version(room.id) == 2
            assert await uow.store_outcome(key, StoredOutcome(b"h", OutcomeKind.SUCCEEDED, booking.id))
            assert (await uow.booking_for_update(TENANT, booking.id)) != booking  # sees its writes
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await cancel_then_fail()

    assert fakes.store.state == before
    assert await stored(fakes, booking) == booking
    assert fakes.store.version(room.id) == 1
    assert key not in fakes.store.outcomes


async def test_a_unit_of_work_left_without_commit_rolls_back() -> None:
    fakes, room, booking = await booked()

    async with fakes.store.unit_of_work() as uow:
        await uow.update_booking(booking.cancelled(fakes.clock.now()))
        await uow.bump_availability_version(room.id)

    assert (await stored(fakes, booking)).confirmed
    assert fakes.store.version(room.id) == 1


async def test_a_committed_unit_of_work_keeps_its_writes() -> None:
    fakes, room, booking = await booked()

    async with fakes.store.unit_of_work() as uow:
        await uow.update_booking(booking.cancelled(fakes.clock.now()))
        await uow.bump_availability_version(room.id)
        await uow.commit()

    assert not (await stored(fakes, booking)).confirmed
    assert fakes.store.version(room.id) == 2


async def test_the_fake_store_refuses_overlapping_confirmed_bookings() -> None:
    fakes, room, booking = await booked(9, 10)
    other = fakes.store.add_booking(room, window(10, 11))

    with pytest.raises(OverlapViolation):
        async with fakes.store.unit_of_work() as uow:
            await uow.update_booking(booking.moved_to(window(9.5, 10.5), fakes.clock.now()))
    with pytest.raises(OverlapViolation):
        fakes.store.add_booking(room, window(10.5, 12))

    assert await stored(fakes, booking) == booking
    assert await stored(fakes, other) == other


def _abort() -> None:
    raise StoreContention("deadlock detected")


async def test_a_transaction_aborted_by_the_database_is_contended_and_changes_nothing() -> None:
    fakes, room, booking = await booked()
    fakes.store.before("uow.update_booking", _abort)

    result = await cancel_booking(fakes.deps, cancel(booking, expected_version=1))

    assert isinstance(result.error, Contended)
    assert await stored(fakes, booking) == booking
    assert fakes.store.version(room.id) == 1
    assert IdempotencyKey(TENANT, Mutation.CANCEL_BOOKING, "c1") not in fakes.store.outcomes
    retried = await cancel_booking(fakes.deps, cancel(booking, expected_version=1))
    assert retried.value is not None
    assert retried.value.status is BookingStatus.CANCELLED


async def test_a_reschedule_aborted_by_the_database_is_contended_and_changes_nothing() -> None:
    fakes, _room, booking = await booked()
    fakes.store.before("uow.bump_availability_version", _abort)

    result = await reschedule_booking(fakes.deps, move(booking, 11, 12))

    assert isinstance(result.error, Contended)
    assert await stored(fakes, booking) == booking
    assert all(e.reason is not ChangeReason.RESCHEDULED for e in fakes.events.events)
