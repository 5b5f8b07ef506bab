"""createResource: the only write that needs no lock (nothing can overlap it)."""

from __future__ import annotations

from functools import partial
from uuid import uuid4

from booking_gateway.domain import rules
from booking_gateway.domain.commands import CreateResource
from booking_gateway.domain.errors import ValidationFailed
from booking_gateway.domain.idempotency import IdempotencyKey, Mutation, fingerprint
from booking_gateway.domain.model import Resource
from booking_gateway.domain.outcome import Deps, Outcome
from booking_gateway.domain.replay import replay


async def create_resource(deps: Deps, cmd: CreateResource) -> Outcome[Resource]:
    try:
        rules.check_client_mutation_id(cmd.client_mutation_id)
        name = cmd.name.strip()
        rules.check_text("name", name, rules.MAX_NAME_LENGTH, required=True)
        rules.check_time_zone(cmd.time_zone)
    except ValidationFailed as err:
        return Outcome(error=err)
    key = IdempotencyKey(cmd.tenant_id, Mutation.CREATE_RESOURCE, cmd.client_mutation_id)
    request_hash = fingerprint(Mutation.CREATE_RESOURCE, name=name, time_zone=cmd.time_zone)
    load = partial(deps.store.get_resource, cmd.tenant_id)
    if (prior := await deps.store.find_outcome(key)) is not None:
        return await replay(key, request_hash, prior, load)
    resource = Resource(uuid4(), cmd.tenant_id, name, cmd.time_zone, deps.clock.now())
    created = await deps.store.create_resource(key, request_hash, resource)
    if isinstance(created, Resource):
        return Outcome(value=created)
    return await replay(key, request_hash, created.prior, load)
