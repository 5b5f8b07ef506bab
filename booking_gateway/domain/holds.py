"""holdSlot, confirmBooking and releaseHold: a hold is a booking with a status and an expiry.

A hold is made by the bookSlot path (:func:`~booking_gateway.domain.book_slot.claim_window`):
same pre-check, range lock, commit and constraint. Confirm and release change it inside one
transaction that locks the resource's row first (the booking commit's lock order) and then the
booking, with the optimistic version check of cancel and reschedule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from booking_gateway.domain import rules
from booking_gateway.domain.book_slot import claim_window
from booking_gateway.domain.change_booking import STORE_RETRY_AFTER_MS, commit_change
from booking_gateway.domain.commands import BookSlot, ConfirmBooking, HoldSlot, ReleaseHold
from booking_gateway.domain.errors import (
    Contended,
    DomainError,
    HoldExpired,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from booking_gateway.domain.hold_rules import hold_seconds
from booking_gateway.domain.idempotency import IdempotencyKey, Mutation, OutcomeKind, StoredOutcome, fingerprint
from booking_gateway.domain.model import Booking, BookingStatus
from booking_gateway.domain.outcome import Deps, Outcome
from booking_gateway.domain.ports import (
    AvailabilityChanged,
    ChangeReason,
    OverlapViolation,
    StoreContention,
    UnitOfWork,
)
from booking_gateway.domain.replay import replay

#: what a change step answers, and the event to publish once committed
_Result = tuple[Outcome[Booking], AvailabilityChanged | None]
_Step = Callable[[Deps, UnitOfWork, IdempotencyKey, bytes, Booking], Awaitable[_Result]]


async def hold_slot(deps: Deps, cmd: HoldSlot) -> Outcome[Booking]:
    try:
        seconds = hold_seconds(cmd.ttl_seconds, deps.holds)
    except ValidationFailed as err:
        return Outcome(error=err)
    booking = BookSlot(cmd.tenant_id, cmd.client_mutation_id, cmd.resource_id, cmd.start, cmd.end,
                       cmd.reference, cmd.note)
    return await claim_window(deps, booking, Mutation.HOLD_SLOT, seconds)


async def confirm_booking(deps: Deps, cmd: ConfirmBooking) -> Outcome[Booking]:
    """HELD -> CONFIRMED; an expired hold only if its window is still free, else HOLD_EXPIRED."""
    return await _change(deps, cmd, Mutation.CONFIRM_BOOKING, _confirm)


async def release_hold(deps: Deps, cmd: ReleaseHold) -> Outcome[Booking]:
    """HELD -> RELEASED; a hold that already ended (expired, released) stays as it is."""
    return await _change(deps, cmd, Mutation.RELEASE_HOLD, _release)


async def _change(deps: Deps, cmd: ConfirmBooking | ReleaseHold, mutation: Mutation,
                  step: _Step) -> Outcome[Booking]:
    try:
        rules.check_client_mutation_id(cmd.client_mutation_id)
        if cmd.expected_version is not None and cmd.expected_version < 1:
            raise ValidationFailed("expectedVersion", "expectedVersion must be 1 or more")
    except ValidationFailed as err:
        return Outcome(error=err)
    key = IdempotencyKey(cmd.tenant_id, mutation, cmd.client_mutation_id)
    request_hash = fingerprint(mutation, booking=cmd.booking_id, expected_version=cmd.expected_version)
    load = partial(deps.store.get_booking, cmd.tenant_id)
    if (prior := await deps.store.find_outcome(key)) is not None:
        return await replay(key, request_hash, prior, load)
    current = await load(cmd.booking_id)
    if current is None:  # another tenant's booking too: exactly like any cross-tenant access
        return Outcome(error=NotFound("Booking", cmd.booking_id))
    try:
        async with deps.store.unit_of_work() as uow:
            await uow.lock_resource(current.resource_id)  # resource, then booking: no deadlock
            booking = await uow.booking_for_update(cmd.tenant_id, cmd.booking_id)
            if (prior := await uow.find_outcome(key)) is not None:
                return await replay(key, request_hash, prior, load)
            if booking is None:
                return Outcome(error=NotFound("Booking", cmd.booking_id))
            if cmd.expected_version is not None and cmd.expected_version != booking.version:
                return Outcome(error=VersionConflict(cmd.expected_version, booking.version))
            outcome, event = await step(deps, uow, key, request_hash, booking)
    except StoreContention:
        return Outcome(error=Contended(STORE_RETRY_AFTER_MS))
    except OverlapViolation:  # pragma: no cover - the resource lock serializes writers
        return Outcome(error=Contended(STORE_RETRY_AFTER_MS))
    if event is not None:
        await deps.events.publish(event)
    return outcome


async def _confirm(deps: Deps, uow: UnitOfWork, key: IdempotencyKey, request_hash: bytes,
                   booking: Booking) -> _Result:
    if booking.status is BookingStatus.CONFIRMED:
        return await _done(uow, key, request_hash, booking, deps), None
    if booking.status not in (BookingStatus.HELD, BookingStatus.EXPIRED):
        return Outcome(error=_not_a_hold(booking, "confirmed")), None
    if booking.status is BookingStatus.EXPIRED:
        # the window may have been taken since: free what else expired, then look
        await uow.end_expired_holds(booking.resource_id, booking.window)
        conflicts = await uow.overlapping(booking.resource_id, booking.window, booking.id)
        if conflicts:
            refusal = StoredOutcome(request_hash, OutcomeKind.HOLD_EXPIRED, conflicts=conflicts)
            if not await uow.store_outcome(key, refusal):
                return await _replayed(uow, key, request_hash, deps, booking), None
            await uow.commit()
            return Outcome(error=HoldExpired(conflicts)), None
    return await _apply(deps, uow, key, request_hash, booking, BookingStatus.CONFIRMED,
                        ChangeReason.CONFIRMED)


async def _release(deps: Deps, uow: UnitOfWork, key: IdempotencyKey, request_hash: bytes,
                   booking: Booking) -> _Result:
    if booking.status in (BookingStatus.EXPIRED, BookingStatus.RELEASED):
        return await _done(uow, key, request_hash, booking, deps), None
    if booking.status is not BookingStatus.HELD:
        return Outcome(error=_not_a_hold(booking, "released")), None
    return await _apply(deps, uow, key, request_hash, booking, BookingStatus.RELEASED,
                        ChangeReason.RELEASED)


async def _apply(deps: Deps, uow: UnitOfWork, key: IdempotencyKey, request_hash: bytes,
                 booking: Booking, status: BookingStatus, reason: ChangeReason) -> _Result:
    changed = booking.with_status(status, deps.clock.now())
    await uow.update_booking(changed)
    version = await uow.bump_availability_version(booking.resource_id)
    load = partial(deps.store.get_booking, booking.tenant_id)
    if (lost := await commit_change(uow, key, request_hash, changed, load)) is not None:
        return lost, None
    return Outcome(value=changed), AvailabilityChanged(
        booking.tenant_id, booking.resource_id, reason, booking.window, version)


async def _done(uow: UnitOfWork, key: IdempotencyKey, request_hash: bytes, booking: Booking,
                deps: Deps) -> Outcome[Booking]:
    """Nothing to change (already confirmed, or the hold already ended): succeed as it is."""
    load = partial(deps.store.get_booking, booking.tenant_id)
    return await commit_change(uow, key, request_hash, booking, load) or Outcome(value=booking)


async def _replayed(uow: UnitOfWork, key: IdempotencyKey, request_hash: bytes, deps: Deps,
                    booking: Booking) -> Outcome[Booking]:
    prior = await uow.find_outcome(key)
    assert prior is not None, "store_outcome said an outcome exists"
    return await replay(key, request_hash, prior, partial(deps.store.get_booking, booking.tenant_id))


def _not_a_hold(booking: Booking, verb: str) -> DomainError:
    return ValidationFailed("bookingId", f"the booking is {booking.status.value}, not a hold; "
                            f"only a hold can be {verb}")
