"""setResourceRules, and the rules a booking is checked against.

The rules come from a per-process cache (:mod:`rules_cache`) that may be stale (another
process changed them): that is safe because every booking commit re-reads the rules version
under a lock in its own statement and refuses a stale one (:class:`RulesChanged`: the
booking is checked again), and a refusal is given only after a fresh read. So the cache saves
a round trip, never decides alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from uuid import UUID

from booking_gateway.domain import rules as limits_rules
from booking_gateway.domain import schedule
from booking_gateway.domain.errors import NotFound, OutsideSchedule, ValidationFailed, VersionConflict
from booking_gateway.domain.idempotency import IdempotencyKey, Mutation, fingerprint
from booking_gateway.domain.outcome import Deps, Outcome
from booking_gateway.domain.ports import (
    AvailabilityChanged,
    ChangeReason,
    Replayed,
    RulesVersionMismatch,
    RulesWritten,
)
from booking_gateway.domain.replay import replay
from booking_gateway.domain.rules_cache import ResourceSchedule, compiled
from booking_gateway.domain.schedule import RulesSpec
from booking_gateway.domain.time_window import EARLIEST_INSTANT, LATEST_INSTANT, TimeWindow


async def schedule_of(deps: Deps, tenant_id: UUID, resource_id: UUID, *,
                      fresh: bool = False) -> ResourceSchedule | None:
    """The resource's rules (cached unless ``fresh``); None when the tenant has no such resource."""
    if not fresh and (hit := deps.rules.get(tenant_id, resource_id)) is not None:
        return hit
    record = await deps.store.read_rules(tenant_id, resource_id)
    return None if record is None else deps.rules.put(compiled(tenant_id, resource_id, record))


async def check_rules(deps: Deps, tenant_id: UUID, resource_id: UUID,
                      window: TimeWindow) -> ResourceSchedule | OutsideSchedule | NotFound:
    """The schedule a window passes, or why not. A refusal is only given after a fresh read."""
    cached = await schedule_of(deps, tenant_id, resource_id)
    verdict = _verdict(deps, cached, resource_id, window)
    if not isinstance(verdict, OutsideSchedule):
        return verdict
    # the cached rules may be older than another process's change: decide on fresh ones
    return _verdict(deps, await schedule_of(deps, tenant_id, resource_id, fresh=True), resource_id, window)


def _verdict(deps: Deps, found: ResourceSchedule | None, resource_id: UUID,
             window: TimeWindow) -> ResourceSchedule | OutsideSchedule | NotFound:
    if found is None:
        return NotFound("Resource", resource_id)
    if not deps.enforce_rules:
        return found
    return found.refusal(window, deps.clock.now()) or found


# --- setResourceRules --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetResourceRules:
    tenant_id: UUID
    client_mutation_id: str
    resource_id: UUID
    expected_version: int
    spec: RulesSpec


async def set_resource_rules(deps: Deps, cmd: SetResourceRules) -> Outcome[ResourceSchedule]:
    try:
        limits_rules.check_client_mutation_id(cmd.client_mutation_id)
        if cmd.expected_version < 0:
            raise ValidationFailed("expectedVersion", "expectedVersion: must be 0 (no rules yet) or more")
        schedule.validate(cmd.spec)
    except ValidationFailed as err:
        return Outcome(error=err)
    document = schedule.to_json(cmd.spec)
    key = IdempotencyKey(cmd.tenant_id, Mutation.SET_RESOURCE_RULES, cmd.client_mutation_id)
    request_hash = fingerprint(Mutation.SET_RESOURCE_RULES, resource=cmd.resource_id,
                               expected_version=cmd.expected_version, rules=document)
    load = partial(_load, deps, cmd.tenant_id)
    if (prior := await deps.store.find_outcome(key)) is not None:
        return await replay(key, request_hash, prior, load)
    written = await deps.store.write_rules(key, request_hash, cmd.tenant_id, cmd.resource_id,
                                           cmd.expected_version, document)
    if isinstance(written, RulesWritten):
        entry = deps.rules.put(compiled(cmd.tenant_id, cmd.resource_id, written.record))
        await deps.events.publish(AvailabilityChanged(
            cmd.tenant_id, cmd.resource_id, ChangeReason.RULES_CHANGED,
            TimeWindow.unchecked(EARLIEST_INSTANT, LATEST_INSTANT), written.availability_version))
        return Outcome(value=entry)
    if isinstance(written, RulesVersionMismatch):
        return Outcome(error=VersionConflict(cmd.expected_version, written.current,
                                             "the resource's rules"))
    if isinstance(written, Replayed):
        return await replay(key, request_hash, written.prior, load)
    return Outcome(error=NotFound("Resource", cmd.resource_id))


async def _load(deps: Deps, tenant_id: UUID, resource_id: UUID) -> ResourceSchedule | None:
    return await schedule_of(deps, tenant_id, resource_id, fresh=True)
