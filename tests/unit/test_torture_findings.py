"""Regressions for gateway bugs the torture run found, replayed deterministically with the fakes."""

from __future__ import annotations

from uuid import UUID, uuid4

from booking_gateway.domain.book_slot import book_slot
from booking_gateway.domain.change_booking import reschedule_booking
from booking_gateway.domain.commands import BookSlot, RescheduleBooking
from booking_gateway.domain.model import Booking
from booking_gateway.domain.outcome import Outcome

from .fakes import Fakes, window

TENANT = uuid4()


async def test_a_double_clicked_reschedule_answers_as_its_twin_not_version_conflict() -> None:
    """Torture run, seed 1: twin #2 of a reschedule (expectedVersion 1) moved the booking to v2;
    twin #1 had passed the idempotency fast path before that commit and read the booking after
    it, so it answered VERSION_CONFLICT "the booking is at version 2": two answers for one key."""
    fakes = Fakes()
    room = fakes.store.add_resource(TENANT)
    first = await book_slot(fakes.deps, BookSlot(TENANT, "book", room.id, window(9, 10).start, window(9, 10).end))
    assert first.value is not None
    move = RescheduleBooking(TENANT, "move", first.value.id, window(11, 12).start, window(11, 12).end, 1)
    twin: list[Outcome[Booking]] = []
    read_booking = fakes.store.get_booking

    async def twin_commits_before_the_read(tenant_id: UUID, booking_id: UUID) -> Booking | None:
        if not twin:
            twin.append(Outcome())  # the twin's own read goes straight through
            twin[0] = await reschedule_booking(fakes.deps, move)
        return await read_booking(tenant_id, booking_id)

    fakes.store.get_booking = twin_commits_before_the_read  # type: ignore[method-assign]
    answer = await reschedule_booking(fakes.deps, move)

    assert twin[0].error is None
    assert answer.error is None
    assert answer.replayed
    assert answer.value == twin[0].value
