"""bookSlot, step by step as DESIGN.md lays it out.

One refinement: the lock-free pre-check (steps 2 and 4) runs first only on a resource
that refused someone lately (:mod:`busy_resources`); on a quiet one the booking takes the
lock at once and the commit, which re-checks idempotency, ownership and overlaps under the
lock, decides alone. That saves a database round trip per booking where the pre-check
would find nothing, and keeps rejections on a busy resource from queueing behind the lock.
"""

from __future__ import annotations

from functools import partial
from uuid import uuid4

from booking_gateway.domain import rules
from booking_gateway.domain.commands import BookSlot
from booking_gateway.domain.errors import Contended, NotFound, SlotUnavailable, ValidationFailed
from booking_gateway.domain.idempotency import IdempotencyKey, Mutation, fingerprint
from booking_gateway.domain.model import Booking
from booking_gateway.domain.outcome import Deps, Outcome
from booking_gateway.domain.ports import (
    AvailabilityChanged,
    Booked,
    ChangeReason,
    Claim,
    ConflictSpace,
    LockAbandoned,
    NewBooking,
    Precheck,
    Rejected,
    ResourceMissing,
    RulesChanged,
    StoreContention,
)
from booking_gateway.domain.replay import replay
from booking_gateway.domain.resource_rules import check_rules
from booking_gateway.domain.rules_cache import ResourceSchedule
from booking_gateway.domain.time_window import TimeWindow

#: Suggested back-off after the database kept refusing without a visible overlap.
STORE_RETRY_AFTER_MS = 50
#: How often a booking is checked again when the rules changed under it.
RULES_ATTEMPTS = 3


async def book_slot(deps: Deps, cmd: BookSlot) -> Outcome[Booking]:
    return await claim_window(deps, cmd, Mutation.BOOK_SLOT)


async def claim_window(deps: Deps, cmd: BookSlot, mutation: Mutation,
                       hold_seconds: int | None = None) -> Outcome[Booking]:
    """Book the window, or with ``hold_seconds`` hold it (holdSlot): one path for both, checked
    against the resource's rules (again if they change before the commit)."""
    for _ in range(RULES_ATTEMPTS):
        try:
            outcome = await _book(deps, cmd, mutation, hold_seconds)
        except RulesChanged:  # nothing was written: check again against the new rules
            deps.rules.forget(cmd.tenant_id, cmd.resource_id)
            continue
        if isinstance(outcome.error, (SlotUnavailable, Contended)):
            deps.busy.refused(cmd.resource_id)
        return outcome
    return Outcome(error=Contended(STORE_RETRY_AFTER_MS))


async def _book(deps: Deps, cmd: BookSlot, mutation: Mutation,
                hold_seconds: int | None) -> Outcome[Booking]:
    # 1. validate: nothing is written for invalid input
    try:
        rules.check_client_mutation_id(cmd.client_mutation_id)
        window = TimeWindow.of(cmd.start, cmd.end)
        rules.check_booking_window(window, deps.limits)
        rules.check_text("reference", cmd.reference, rules.MAX_REFERENCE_LENGTH)
        rules.check_text("note", cmd.note, rules.MAX_NOTE_LENGTH)
    except ValidationFailed as err:
        return Outcome(error=err)

    key = IdempotencyKey(cmd.tenant_id, mutation, cmd.client_mutation_id)
    hold = {} if hold_seconds is None else {"ttl": hold_seconds}
    request_hash = fingerprint(mutation, resource=cmd.resource_id, window=window,
                               reference=cmd.reference, note=cmd.note, **hold)

    # the resource's rules (cached; the commit refuses a stale version): the booking's blocked
    # window (buffers included) is what it competes for, in the lock, the pre-check and the table
    checked = await check_rules(deps, cmd.tenant_id, cmd.resource_id, window)
    if not isinstance(checked, ResourceSchedule):
        # a retry of a request answered before gets that answer, not today's verdict
        if (prior := await deps.store.find_outcome(key)) is not None:
            return await replay(key, request_hash, prior, partial(deps.store.get_booking, cmd.tenant_id))
        return Outcome(error=checked)
    blocked = checked.blocked(window)

    # 2 + 4. on a resource that refused someone lately: the idempotency fast path, ownership
    # and the optimistic pre-check in one lock-free read, where most of its requests end.
    # On a quiet one the read would find nothing: the commit below decides all of it.
    # An overlapping booking in flight that the lock sees for free is let finish first, so
    # that the read sees it instead of passing and reading again after the lock.
    space = ConflictSpace.of(cmd.tenant_id, Claim(cmd.resource_id, blocked))
    pre: Precheck | None = None
    if deps.busy.busy(cmd.resource_id):
        await deps.lock.await_known_holds(space)
        pre = await deps.store.precheck_booking(key, request_hash, cmd.resource_id, blocked,
                                                checked.version)
        if (answer := await _settled(deps, key, request_hash, pre, cmd, checked.version)) is not None:
            return answer

    async def still_free() -> bool:
        """While waiting for the lock: has the window been taken (or the key answered) meanwhile?"""
        nonlocal pre
        deps.busy.refused(cmd.resource_id)  # waiting for the lock: the resource is busy
        pre = await deps.store.precheck_booking(key, request_hash, cmd.resource_id, blocked,
                                                checked.version)
        return pre.prior is None and not pre.conflicts and pre.rules_version == checked.version

    # 3 + 5 + 6 + 7. hold the conflict space, commit, publish, release
    new = NewBooking(uuid4(), cmd.tenant_id, cmd.resource_id, window, cmd.reference, cmd.note,
                     hold_seconds, blocked, checked.version)
    reason = ChangeReason.BOOKED if hold_seconds is None else ChangeReason.HELD
    try:
        async with deps.lock.hold(space, still_wanted=still_free):
            result = await deps.store.commit_booking(key, request_hash, new)
            if isinstance(result, Booked):
                await deps.events.publish(AvailabilityChanged(
                    cmd.tenant_id, cmd.resource_id, reason, window,
                    result.availability_version))
    except LockAbandoned:
        assert pre is not None, "the lock is abandoned only after a pre-check"
        answer = await _settled(deps, key, request_hash, pre, cmd, checked.version)
        assert answer is not None, "the lock is abandoned only for a settled pre-check"
        return answer
    except Contended as err:
        return Outcome(error=err)
    except StoreContention:
        return Outcome(error=Contended(STORE_RETRY_AFTER_MS))

    if isinstance(result, Booked):
        return Outcome(value=result.booking)
    if isinstance(result, Rejected):
        return Outcome(error=SlotUnavailable(result.conflicts))
    if isinstance(result, ResourceMissing):
        return Outcome(error=NotFound("Resource", cmd.resource_id))
    return await replay(key, request_hash, result.prior, partial(deps.store.get_booking, cmd.tenant_id))


async def _settled(deps: Deps, key: IdempotencyKey, request_hash: bytes, pre: Precheck,
                   cmd: BookSlot, rules_version: int) -> Outcome[Booking] | None:
    """The answer a pre-check already decides (a replay, NOT_FOUND, SLOT_UNAVAILABLE), or None.

    Raises :class:`RulesChanged` when the pre-check ran against rules newer than the checked ones.
    """
    load = partial(deps.store.get_booking, cmd.tenant_id)
    if pre.prior is not None:
        return await replay(key, request_hash, pre.prior, load)
    if not pre.resource_found:
        return Outcome(error=NotFound("Resource", cmd.resource_id))
    if pre.rules_version != rules_version:
        raise RulesChanged(f"resource {cmd.resource_id} rules at version {pre.rules_version}")
    if not pre.conflicts:
        return None
    if pre.rejection_recorded:
        return Outcome(error=SlotUnavailable(pre.conflicts))
    # a concurrent request with the same key stored its outcome first: answer as it did
    prior = await deps.store.find_outcome(key)
    if prior is not None:
        return await replay(key, request_hash, prior, load)
    return Outcome(error=SlotUnavailable(pre.conflicts))
