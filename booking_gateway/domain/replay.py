"""Answering a request whose clientMutationId already has a stored outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

from booking_gateway.domain.errors import HoldExpired, IdempotencyKeyReused, SlotUnavailable
from booking_gateway.domain.idempotency import IdempotencyKey, OutcomeKind, StoredOutcome
from booking_gateway.domain.outcome import Outcome

T = TypeVar("T")


async def replay(key: IdempotencyKey, request_hash: bytes, prior: StoredOutcome,
                 load: Callable[[UUID], Awaitable[T | None]]) -> Outcome[T]:
    """The first request's answer, or IDEMPOTENCY_KEY_REUSED if the input differs."""
    if prior.request_hash != request_hash:
        return Outcome(error=IdempotencyKeyReused(key.mutation.value, key.client_mutation_id))
    if prior.kind is OutcomeKind.SLOT_UNAVAILABLE:
        return Outcome(error=SlotUnavailable(prior.conflicts), replayed=True)
    if prior.kind is OutcomeKind.HOLD_EXPIRED:
        return Outcome(error=HoldExpired(prior.conflicts), replayed=True)
    if prior.object_id is None:  # pragma: no cover - the store never writes such a row
        raise ValueError(f"stored outcome for {key} names no object")
    return Outcome(value=await load(prior.object_id), replayed=True)
