from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from booking_gateway.domain.book_slot import STORE_RETRY_AFTER_MS, book_slot
from booking_gateway.domain.commands import BookSlot
from booking_gateway.domain.errors import (
    Contended,
    IdempotencyKeyReused,
    NotFound,
    SlotUnavailable,
    ValidationFailed,
)
from booking_gateway.domain.idempotency import IdempotencyKey, Mutation, OutcomeKind
from booking_gateway.domain.model import BookingStatus, Resource
from booking_gateway.domain.ports import AvailabilityChanged, ChangeReason, Claim, ConflictSpace

from .fakes import T0, Fakes, window

TENANT = uuid4()
PLUS_ONE = timezone(timedelta(hours=1))


def setup(busy: bool = False) -> tuple[Fakes, Resource]:
    """A tenant's resource; ``busy``: one that refused a booking lately (pre-check first)."""
    fakes = Fakes()
    room = fakes.store.add_resource(TENANT)
    if busy:
        fakes.busy.refused(room.id)
    return fakes, room


BUSY_OR_QUIET = pytest.mark.parametrize("busy", [False, True], ids=["quiet", "busy"])


def cmd(resource: Resource, start: float = 9, end: float = 10, key: str = "k1",
        reference: str | None = None, note: str | None = None) -> BookSlot:
    w = window(start, end)
    return BookSlot(TENANT, key, resource.id, w.start, w.end, reference, note)


def key(client_mutation_id: str = "k1") -> IdempotencyKey:
    return IdempotencyKey(TENANT, Mutation.BOOK_SLOT, client_mutation_id)


async def test_booking_a_free_window_confirms_it_and_publishes_once() -> None:
    fakes, room = setup()
    held_during_commit: list[list[ConflictSpace]] = []
    fakes.store.before("commit_booking", lambda: held_during_commit.append(list(fakes.lock.held)))

    result = await book_slot(fakes.deps, cmd(room, reference="ref-1", note="window seat"))

    assert result.error is None
    assert not result.replayed
    booking = result.value
    assert booking is not None
    assert booking.status is BookingStatus.CONFIRMED
    assert (booking.window, booking.version, booking.tenant_id) == (window(9, 10), 1, TENANT)
    assert (booking.reference, booking.note) == ("ref-1", "window seat")
    assert fakes.store.bookings == [booking]
    assert fakes.store.version(room.id) == 1
    assert fakes.events.events == [
        AvailabilityChanged(TENANT, room.id, ChangeReason.BOOKED, window(9, 10), 1)]
    space = ConflictSpace(TENANT, (Claim(room.id, window(9, 10)),))
    assert held_during_commit == [[space]]
    assert fakes.lock.held == []
    assert fakes.lock.released == [space]
    assert fakes.store.outcomes[key()].kind is OutcomeKind.SUCCEEDED
    assert fakes.store.outcomes[key()].object_id == booking.id


async def test_the_event_carries_the_resources_new_version() -> None:
    fakes, room = setup()
    fakes.store.add_booking(room, window(7, 8))
    fakes.store.add_booking(room, window(8, 9))

    result = await book_slot(fakes.deps, cmd(room))

    assert result.value is not None
    assert [e.version for e in fakes.events.events] == [3]


def test_a_conflict_space_lists_its_claims_in_a_fixed_order() -> None:
    first, second = sorted([uuid4(), uuid4()])
    claims = [Claim(second, window(9, 10)), Claim(first, window(11, 12)), Claim(first, window(9, 10))]

    space = ConflictSpace.of(TENANT, *claims)

    assert space == ConflictSpace.of(TENANT, *reversed(claims))
    assert space.claims == (Claim(first, window(9, 10)), Claim(first, window(11, 12)),
                            Claim(second, window(9, 10)))


async def test_the_window_is_stored_and_locked_in_utc() -> None:
    fakes, room = setup()
    start = datetime(2026, 12, 1, 10, tzinfo=PLUS_ONE)

    result = await book_slot(fakes.deps, BookSlot(TENANT, "k1", room.id, start,
                                                  start + timedelta(hours=1)))

    assert result.value is not None
    assert result.value.window.start.tzinfo is UTC
    assert result.value.window == window(9, 10)
    assert fakes.lock.requests == [ConflictSpace(TENANT, (Claim(room.id, window(9, 10)),))]


async def test_adjacent_bookings_do_not_conflict() -> None:
    fakes, room = setup()
    fakes.store.add_booking(room, window(8, 9))
    fakes.store.add_booking(room, window(10, 11))

    result = await book_slot(fakes.deps, cmd(room, 9, 10))

    assert result.value is not None
    assert len(fakes.store.bookings) == 3


@pytest.mark.parametrize(("change", "field"), [
    ({"end": T0.replace(hour=9)}, "end"),
    ({"end": T0.replace(hour=8)}, "end"),
    ({"start": datetime(2026, 12, 1, 9)}, "start"),
    ({"end": datetime(2026, 12, 1, 10)}, "end"),
    ({"end": T0.replace(hour=9) + timedelta(days=31, seconds=1)}, "end"),
    ({"reference": "r" * 501}, "reference"),
    ({"note": "n" * 4001}, "note"),
    ({"note": "nul\x00"}, "note"),
    ({"client_mutation_id": ""}, "clientMutationId"),
    ({"client_mutation_id": "k" * 201}, "clientMutationId"),
])
async def test_invalid_input_writes_nothing_and_takes_no_lock(change: dict[str, Any],
                                                              field: str) -> None:
    fakes, room = setup()

    result = await book_slot(fakes.deps, replace(cmd(room), **change))

    assert isinstance(result.error, ValidationFailed)
    assert result.error.field == field
    assert result.value is None
    assert fakes.store.calls == []
    assert fakes.store.bookings == []
    assert fakes.store.outcomes == {}
    assert fakes.lock.requests == []
    assert fakes.events.events == []


async def test_a_booking_of_the_maximum_length_is_allowed() -> None:
    fakes, room = setup()
    start = T0.replace(hour=9)

    result = await book_slot(fakes.deps, BookSlot(TENANT, "k1", room.id, start,
                                                  start + timedelta(days=31)))

    assert result.value is not None


@BUSY_OR_QUIET
async def test_a_retry_with_the_same_input_returns_the_first_booking(busy: bool) -> None:
    fakes, room = setup()
    first = await book_slot(fakes.deps, cmd(room, reference="r"))
    fakes.clock.advance(timedelta(minutes=5))
    if busy:
        fakes.busy.refused(room.id)

    again = await book_slot(fakes.deps, cmd(room, reference="r"))

    assert again.replayed
    assert again.error is None
    assert again.value == first.value
    assert len(fakes.store.bookings) == 1
    assert len(fakes.events.events) == 1
    # busy: the pre-check answers the retry without the lock; quiet: the commit does, under it
    assert len(fakes.lock.requests) == (1 if busy else 2)
    assert fakes.lock.held == []


async def test_a_retry_in_another_offset_is_the_same_input() -> None:
    fakes, room = setup()
    first = await book_slot(fakes.deps, cmd(room))
    w = window(9, 10)

    again = await book_slot(fakes.deps, BookSlot(TENANT, "k1", room.id, w.start.astimezone(PLUS_ONE),
                                                 w.end.astimezone(PLUS_ONE)))

    assert again.replayed
    assert again.value == first.value


@BUSY_OR_QUIET
async def test_the_same_key_with_another_input_is_refused(busy: bool) -> None:
    fakes, room = setup(busy)
    await book_slot(fakes.deps, cmd(room, 9, 10))

    reused = await book_slot(fakes.deps, cmd(room, 11, 12))

    assert isinstance(reused.error, IdempotencyKeyReused)
    assert reused.value is None
    assert not reused.replayed
    assert [b.window for b in fakes.store.bookings] == [window(9, 10)]
    assert len(fakes.events.events) == 1
    assert len(fakes.lock.requests) == (1 if busy else 2)


async def test_the_same_key_in_another_tenant_is_another_request() -> None:
    fakes, room = setup()
    other_room = fakes.store.add_resource(uuid4())
    await book_slot(fakes.deps, cmd(room))
    w = window(9, 10)

    other = await book_slot(fakes.deps, BookSlot(other_room.tenant_id, "k1", other_room.id,
                                                 w.start, w.end))

    assert other.value is not None
    assert not other.replayed
    assert len(fakes.store.bookings) == 2


async def test_on_a_busy_resource_a_precheck_conflict_answers_without_the_lock_and_is_stored() -> None:
    fakes, room = setup(busy=True)
    fakes.store.add_booking(room, window(8, 9.5))
    fakes.store.add_booking(room, window(9.75, 11))
    fakes.store.add_booking(room, window(11, 12))

    result = await book_slot(fakes.deps, cmd(room, 9, 10))

    assert isinstance(result.error, SlotUnavailable)
    assert result.error.conflicts == (window(8, 9.5), window(9.75, 11))
    assert not result.replayed
    assert fakes.lock.requests == []
    assert "commit_booking" not in fakes.store.calls
    assert fakes.events.events == []
    assert len(fakes.store.bookings) == 3
    stored = fakes.store.outcomes[key()]
    assert stored.kind is OutcomeKind.SLOT_UNAVAILABLE
    assert stored.conflicts == (window(8, 9.5), window(9.75, 11))


@BUSY_OR_QUIET
async def test_on_a_busy_resource_the_precheck_waits_for_holds_the_lock_sees_for_free(busy: bool) -> None:
    fakes, room = setup(busy)
    awaited_at_precheck: list[list[ConflictSpace]] = []
    fakes.store.before("precheck_booking", lambda: awaited_at_precheck.append(list(fakes.lock.awaited)))

    result = await book_slot(fakes.deps, cmd(room, 9, 10))

    assert result.error is None
    space = ConflictSpace.of(TENANT, Claim(room.id, window(9, 10)))
    if busy:  # first let an overlapping booking in flight finish, then read once
        assert awaited_at_precheck[0] == [space]
    else:  # no pre-check: the commit under the lock decides
        assert fakes.lock.awaited == []
        assert "precheck_booking" not in fakes.store.calls


async def test_on_a_quiet_resource_the_commit_finds_the_conflict_and_the_resource_turns_busy() -> None:
    fakes, room = setup()
    fakes.store.add_booking(room, window(8, 9.5))

    first = await book_slot(fakes.deps, cmd(room, 9, 10))

    assert isinstance(first.error, SlotUnavailable)
    assert first.error.conflicts == (window(8, 9.5),)
    assert fakes.store.calls == ["commit_booking"]  # no pre-check: the commit decided, under the lock
    assert fakes.lock.held == []
    assert fakes.store.outcomes[key()].kind is OutcomeKind.SLOT_UNAVAILABLE
    assert fakes.events.events == []

    second = await book_slot(fakes.deps, cmd(room, 9, 10, key="k2"))

    assert isinstance(second.error, SlotUnavailable)
    assert fakes.store.calls == ["commit_booking", "precheck_booking"]
    assert len(fakes.lock.requests) == 1

    fakes.clock.advance(timedelta(seconds=3))  # quiet again: straight for the lock
    assert (await book_slot(fakes.deps, cmd(room, 10, 11, key="k3"))).value is not None
    assert fakes.store.calls[-1] == "commit_booking"
    assert len(fakes.lock.requests) == 2


async def test_a_replayed_rejection_answers_the_same_even_once_the_slot_is_free() -> None:
    fakes, room = setup()
    blocker = fakes.store.add_booking(room, window(9, 10))
    await book_slot(fakes.deps, cmd(room))
    fakes.store.cancel(blocker.id)

    again = await book_slot(fakes.deps, cmd(room))

    assert isinstance(again.error, SlotUnavailable)
    assert again.error.conflicts == (window(9, 10),)
    assert again.replayed
    assert len(fakes.lock.requests) == 1  # the first request's: the rejection made the room busy
    assert [b.id for b in fakes.store.bookings] == [blocker.id]


async def test_a_concurrent_booking_between_precheck_and_commit_is_a_stored_rejection() -> None:
    fakes, room = setup()
    fakes.store.before("commit_booking", lambda: fakes.store.add_booking(room, window(9.5, 10.5)))

    result = await book_slot(fakes.deps, cmd(room))

    assert isinstance(result.error, SlotUnavailable)
    assert result.error.conflicts == (window(9.5, 10.5),)
    assert fakes.events.events == []
    assert [b.window for b in fakes.store.bookings] == [window(9.5, 10.5)]
    assert fakes.store.outcomes[key()].kind is OutcomeKind.SLOT_UNAVAILABLE
    assert fakes.lock.held == []


async def test_a_concurrent_retry_that_commits_first_is_replayed() -> None:
    fakes, room = setup()
    fakes.lock.degraded = True  # both requests get past the lock
    first: list[object] = []

    async def twin() -> None:
        first.append(await book_slot(fakes.deps, cmd(room)))

    fakes.store.before("commit_booking", twin)
    result = await book_slot(fakes.deps, cmd(room))

    assert result.replayed
    assert result.value is not None
    assert len(fakes.store.bookings) == 1
    assert result.value == fakes.store.bookings[0]
    assert len(fakes.events.events) == 1


async def test_contention_on_the_lock_is_returned_and_nothing_is_stored() -> None:
    fakes, room = setup()
    fakes.lock.contended_retry_after_ms = 250

    result = await book_slot(fakes.deps, cmd(room))

    assert isinstance(result.error, Contended)
    assert result.error.retry_after_ms == 250
    assert "commit_booking" not in fakes.store.calls
    assert fakes.store.bookings == []
    assert fakes.store.outcomes == {}
    assert fakes.events.events == []


async def test_a_retry_after_contention_books() -> None:
    fakes, room = setup()
    fakes.lock.contended_retry_after_ms = 250
    await book_slot(fakes.deps, cmd(room))
    fakes.lock.contended_retry_after_ms = None

    result = await book_slot(fakes.deps, cmd(room))

    assert result.value is not None
    assert not result.replayed
    assert len(fakes.store.bookings) == 1


async def test_a_request_overlapping_a_held_window_is_contended() -> None:
    fakes, room = setup()
    outcomes: list[object] = []

    async def competitor() -> None:
        outcomes.append(await book_slot(fakes.deps, cmd(room, 9.5, 10.5, key="k2")))

    fakes.store.before("commit_booking", competitor)
    result = await book_slot(fakes.deps, cmd(room))

    assert result.value is not None
    [lost] = outcomes
    assert isinstance(getattr(lost, "error", None), Contended)
    assert key("k2") not in fakes.store.outcomes


async def test_store_contention_becomes_contended_and_is_not_stored() -> None:
    fakes, room = setup()
    fakes.store.contention_failures = 1

    result = await book_slot(fakes.deps, cmd(room))

    assert isinstance(result.error, Contended)
    assert result.error.retry_after_ms == STORE_RETRY_AFTER_MS
    assert fakes.store.outcomes == {}
    assert fakes.store.bookings == []
    assert fakes.lock.held == []
    assert (await book_slot(fakes.deps, cmd(room))).value is not None


async def test_a_degraded_lock_still_books_through_the_store() -> None:
    fakes, room = setup()
    fakes.lock.degraded = True

    result = await book_slot(fakes.deps, cmd(room))

    assert result.value is not None
    assert len(fakes.events.events) == 1
    assert fakes.lock.requests == [ConflictSpace(TENANT, (Claim(room.id, window(9, 10)),))]


@BUSY_OR_QUIET
async def test_a_resource_of_another_tenant_is_not_found(busy: bool) -> None:
    fakes, _ = setup()
    foreign = fakes.store.add_resource(uuid4())
    fakes.store.add_booking(foreign, window(9, 10))
    if busy:
        fakes.busy.refused(foreign.id)

    result = await book_slot(fakes.deps, cmd(foreign))

    assert isinstance(result.error, NotFound)
    assert result.error.object_id == foreign.id
    # the resource's rules are read first, in the caller's tenant: no lock is taken at all
    assert fakes.lock.requests == []
    assert fakes.lock.held == []
    assert key() not in fakes.store.outcomes
    assert len(fakes.store.bookings) == 1


async def test_an_unknown_resource_is_not_found() -> None:
    fakes, _ = setup()
    ghost = Resource(uuid4(), TENANT, "ghost", "UTC", T0)

    result = await book_slot(fakes.deps, cmd(ghost))

    assert isinstance(result.error, NotFound)
    assert fakes.store.bookings == []


async def test_a_cancelled_booking_does_not_block_the_window() -> None:
    fakes, room = setup()
    fakes.store.add_booking(room, window(9, 10), status=BookingStatus.CANCELLED)

    result = await book_slot(fakes.deps, cmd(room))

    assert result.value is not None


@BUSY_OR_QUIET
async def test_a_waiter_whose_window_is_taken_meanwhile_is_answered_without_the_lock(busy: bool) -> None:
    fakes, room = setup(busy)
    fakes.lock.waits_before_grant = 1  # refused once: the use case re-checks before retrying

    def rival_books() -> None:
        fakes.store.add_booking(room, window(9.5, 10.5))

    def then_a_rival_books() -> None:  # between the first pre-check and the re-check
        fakes.store.before("precheck_booking", rival_books)

    fakes.store.before("precheck_booking", then_a_rival_books if busy else rival_books)

    result = await book_slot(fakes.deps, cmd(room))

    assert isinstance(result.error, SlotUnavailable)
    assert result.error.conflicts == (window(9.5, 10.5),)
    assert fakes.lock.held == []
    assert "commit_booking" not in fakes.store.calls
    assert fakes.store.outcomes[key()].kind is OutcomeKind.SLOT_UNAVAILABLE
    assert fakes.events.events == []


@BUSY_OR_QUIET
async def test_a_waiter_whose_window_stays_free_books_after_the_wait(busy: bool) -> None:
    fakes, room = setup(busy)
    fakes.lock.waits_before_grant = 3

    result = await book_slot(fakes.deps, cmd(room))

    assert result.value is not None
    # one per wait, after a first one before the lock on a busy resource
    assert fakes.store.calls.count("precheck_booking") == (4 if busy else 3)
    assert fakes.busy.busy(room.id)  # it had to wait: the next booking pre-checks first
