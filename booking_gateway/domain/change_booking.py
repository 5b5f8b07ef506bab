"""cancelBooking and rescheduleBooking: optimistic version checks inside one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from uuid import UUID

from booking_gateway.domain import rules
from booking_gateway.domain.commands import CancelBooking, RescheduleBooking
from booking_gateway.domain.errors import (
    Contended,
    DomainError,
    NotFound,
    SlotUnavailable,
    ValidationFailed,
    VersionConflict,
)
from booking_gateway.domain.idempotency import (
    IdempotencyKey,
    Mutation,
    OutcomeKind,
    StoredOutcome,
    fingerprint,
)
from booking_gateway.domain.model import Booking
from booking_gateway.domain.outcome import Deps, Outcome
from booking_gateway.domain.ports import (
    AvailabilityChanged,
    ChangeReason,
    Claim,
    ConflictSpace,
    OverlapViolation,
    StoreContention,
    UnitOfWork,
)
from booking_gateway.domain.replay import replay
from booking_gateway.domain.resource_rules import check_rules
from booking_gateway.domain.rules_cache import ResourceSchedule, compiled
from booking_gateway.domain.time_window import TimeWindow

STORE_RETRY_AFTER_MS = 50


def _check_expected_version(expected: int | None) -> None:
    if expected is not None and expected < 1:
        raise ValidationFailed("expectedVersion", "expectedVersion must be 1 or more")


def _refusal(booking: Booking | None, cmd: CancelBooking | RescheduleBooking) -> DomainError | None:
    if booking is None:
        return NotFound("Booking", cmd.booking_id)
    if cmd.expected_version is not None and cmd.expected_version != booking.version:
        return VersionConflict(cmd.expected_version, booking.version)
    return None


async def cancel_booking(deps: Deps, cmd: CancelBooking) -> Outcome[Booking]:
    """Cancel a booking; cancelling a cancelled booking changes nothing and succeeds."""
    try:
        rules.check_client_mutation_id(cmd.client_mutation_id)
        _check_expected_version(cmd.expected_version)
    except ValidationFailed as err:
        return Outcome(error=err)
    key = IdempotencyKey(cmd.tenant_id, Mutation.CANCEL_BOOKING, cmd.client_mutation_id)
    request_hash = fingerprint(Mutation.CANCEL_BOOKING, booking=cmd.booking_id,
                               expected_version=cmd.expected_version)
    load = partial(deps.store.get_booking, cmd.tenant_id)
    if (prior := await deps.store.find_outcome(key)) is not None:
        return await replay(key, request_hash, prior, load)

    try:
        return await _cancel(deps, cmd, key, request_hash)
    except StoreContention:
        return Outcome(error=Contended(STORE_RETRY_AFTER_MS))


async def _cancel(deps: Deps, cmd: CancelBooking, key: IdempotencyKey,
                  request_hash: bytes) -> Outcome[Booking]:
    load = partial(deps.store.get_booking, cmd.tenant_id)
    async with deps.store.unit_of_work() as uow:
        booking = await uow.booking_for_update(cmd.tenant_id, cmd.booking_id)
        # the row lock orders same-key retries: re-check under it
        if (prior := await uow.find_outcome(key)) is not None:
            return await replay(key, request_hash, prior, load)
        if (refusal := _refusal(booking, cmd)) is not None:
            return Outcome(error=refusal)
        assert booking is not None
        if not (booking.confirmed or booking.held):  # a live hold is cancelled like a booking
            return await commit_change(uow, key, request_hash, booking, load) or Outcome(value=booking)
        cancelled = booking.cancelled(deps.clock.now())
        await uow.update_booking(cancelled)
        version = await uow.bump_availability_version(booking.resource_id)
        if (lost := await commit_change(uow, key, request_hash, cancelled, load)) is not None:
            return lost
    await deps.events.publish(AvailabilityChanged(
        cmd.tenant_id, booking.resource_id, ChangeReason.CANCELLED, booking.window, version))
    return Outcome(value=cancelled)


async def reschedule_booking(deps: Deps, cmd: RescheduleBooking) -> Outcome[Booking]:
    """Move a confirmed booking to a new window, under a range lock on the new window."""
    try:
        rules.check_client_mutation_id(cmd.client_mutation_id)
        window = TimeWindow.of(cmd.start, cmd.end)
        rules.check_booking_window(window, deps.limits)
        _check_expected_version(cmd.expected_version)
    except ValidationFailed as err:
        return Outcome(error=err)
    key = IdempotencyKey(cmd.tenant_id, Mutation.RESCHEDULE_BOOKING, cmd.client_mutation_id)
    request_hash = fingerprint(Mutation.RESCHEDULE_BOOKING, booking=cmd.booking_id,
                               window=window, expected_version=cmd.expected_version)
    load = partial(deps.store.get_booking, cmd.tenant_id)
    if (prior := await deps.store.find_outcome(key)) is not None:
        return await replay(key, request_hash, prior, load)
    current = await deps.store.get_booking(cmd.tenant_id, cmd.booking_id)
    if (refusal := _refusal(current, cmd) or _not_movable(current)) is not None:
        # The refusal may be the work of a request with this very key (a double click) that
        # committed since the fast path above: answer as it did, not VERSION_CONFLICT.
        if (prior := await deps.store.find_outcome(key)) is not None:
            return await replay(key, request_hash, prior, load)
        return Outcome(error=refusal)
    assert current is not None
    checked = await check_rules(deps, cmd.tenant_id, current.resource_id, window)
    if not isinstance(checked, ResourceSchedule):
        if (prior := await deps.store.find_outcome(key)) is not None:
            return await replay(key, request_hash, prior, load)
        return Outcome(error=checked)

    space = ConflictSpace.of(cmd.tenant_id, Claim(current.resource_id, checked.blocked(window)))
    try:
        async with deps.lock.hold(space):
            return await _move(deps, cmd, key, request_hash, window, checked)
    except Contended as err:
        return Outcome(error=err)
    except StoreContention:
        return Outcome(error=Contended(STORE_RETRY_AFTER_MS))
    except OverlapViolation:
        # without the lock (degraded), a concurrent booking won the window: show it
        conflicts = await deps.store.overlapping(current.resource_id, checked.blocked(window),
                                                 cmd.booking_id)
        if not conflicts:
            return Outcome(error=Contended(STORE_RETRY_AFTER_MS))
        existing = await deps.store.record_outcome(
            key, StoredOutcome(request_hash, OutcomeKind.SLOT_UNAVAILABLE, conflicts=conflicts))
        if existing is not None:
            return await replay(key, request_hash, existing, load)
        return Outcome(error=SlotUnavailable(conflicts))


async def _move(deps: Deps, cmd: RescheduleBooking, key: IdempotencyKey, request_hash: bytes,
                window: TimeWindow, checked: ResourceSchedule) -> Outcome[Booking]:
    load = partial(deps.store.get_booking, cmd.tenant_id)
    async with deps.store.unit_of_work() as uow:
        booking = await uow.booking_for_update(cmd.tenant_id, cmd.booking_id)
        if (prior := await uow.find_outcome(key)) is not None:
            return await replay(key, request_hash, prior, load)
        if (refusal := _refusal(booking, cmd) or _not_movable(booking)) is not None:
            return Outcome(error=refusal)
        assert booking is not None
        if booking.window == window:
            return await commit_change(uow, key, request_hash, booking, load) or Outcome(value=booking)
        # resource before holds, the booking commit's lock order; the rules at one version,
        # locked against a change until this transaction ends; then free what expired
        await uow.lock_resource(booking.resource_id)
        record = await uow.rules_for_share(cmd.tenant_id, booking.resource_id)
        assert record is not None, "the booking's resource exists"
        rules = checked if record.version == checked.version else compiled(
            cmd.tenant_id, booking.resource_id, record)
        if deps.enforce_rules and (outside := rules.refusal(window, deps.clock.now())) is not None:
            return Outcome(error=outside)
        blocked = rules.blocked(window)
        await uow.end_expired_holds(booking.resource_id, blocked)
        conflicts = await uow.overlapping(booking.resource_id, blocked, booking.id)
        if conflicts:
            rejection = StoredOutcome(request_hash, OutcomeKind.SLOT_UNAVAILABLE,
                                      conflicts=conflicts)
            if await uow.store_outcome(key, rejection):
                await uow.commit()
                return Outcome(error=SlotUnavailable(conflicts))
            return await _replay_stored(uow, key, request_hash, load)
        moved = booking.moved_to(window, deps.clock.now())
        await uow.update_booking(moved, blocked)
        version = await uow.bump_availability_version(booking.resource_id)
        if (lost := await commit_change(uow, key, request_hash, moved, load)) is not None:
            return lost
    await deps.events.publish(AvailabilityChanged(
        cmd.tenant_id, booking.resource_id, ChangeReason.RESCHEDULED,
        booking.window.hull(window), version))
    return Outcome(value=moved)


def _not_movable(booking: Booking | None) -> DomainError | None:
    if booking is not None and not booking.confirmed:
        return ValidationFailed("bookingId", f"the booking is {booking.status.value}; only a "
                                "confirmed booking can be rescheduled (to move a hold, release "
                                "it and hold the new window)")
    return None


async def commit_change(uow: UnitOfWork, key: IdempotencyKey, request_hash: bytes, booking: Booking,
                  load: Callable[[UUID], Awaitable[Booking | None]]) -> Outcome[Booking] | None:
    """Store the success and commit (None); if a request reusing the key won, replay it.

    Every change of a booking ends with it: cancel, reschedule, and confirm/release of holds."""
    if await uow.store_outcome(key, StoredOutcome(request_hash, OutcomeKind.SUCCEEDED, booking.id)):
        await uow.commit()
        return None
    return await _replay_stored(uow, key, request_hash, load)


async def _replay_stored(uow: UnitOfWork, key: IdempotencyKey, request_hash: bytes,
                         load: Callable[[UUID], Awaitable[Booking | None]]) -> Outcome[Booking]:
    prior = await uow.find_outcome(key)
    if prior is None:  # pragma: no cover - store_outcome said a row exists
        raise RuntimeError(f"idempotency record for {key} vanished")
    return await replay(key, request_hash, prior, load)
