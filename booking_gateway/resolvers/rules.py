"""Resolvers of setResourceRules, Resource.rules and bookableSlots: decode, call, shape."""

from __future__ import annotations

from collections.abc import Sequence

from booking_gateway.domain import model
from booking_gateway.domain.bookable_slots import BookableSlots, bookable_slots
from booking_gateway.domain.errors import DomainError, NotFound
from booking_gateway.domain.outcome import Outcome
from booking_gateway.domain.resource_rules import SetResourceRules, schedule_of, set_resource_rules
from booking_gateway.domain.rules_cache import ResourceSchedule
from booking_gateway.resolvers import graphql_errors as graph
from booking_gateway.resolvers.context import Context
from booking_gateway.resolvers.fields import window_of
from booking_gateway.resolvers.graphql_errors import query_error
from booking_gateway.schema.errors import to_graphql
from booking_gateway.schema.ids import expect_id
from booking_gateway.schema.inputs import TimeWindowInput
from booking_gateway.schema.rules_types import (
    ResourceRules,
    SetResourceRulesInput,
    SetResourceRulesPayload,
    spec_of,
)
from booking_gateway.schema.types import Resource


async def set_rules(ctx: Context, data: SetResourceRulesInput) -> SetResourceRulesPayload:
    try:
        resource_id = expect_id(data.resource_id, "Resource", "resourceId")
        outcome: Outcome[ResourceSchedule] = Outcome(error=NotFound("Resource", None))
        if resource_id is not None:
            outcome = await set_resource_rules(ctx.deps, SetResourceRules(
                ctx.tenant_id, data.client_mutation_id, resource_id, data.expected_version,
                spec_of(data.rules)))
    except DomainError as err:
        outcome = Outcome(error=err)
    resource = None
    if outcome.value is not None:
        resource = await ctx.resource_loader.load(outcome.value.resource_id)
    error = outcome.error
    return SetResourceRulesPayload(
        client_mutation_id=data.client_mutation_id,
        resource=Resource.of(resource) if resource else None,
        rules=ResourceRules.of(outcome.value) if outcome.value else None,
        replayed=outcome.replayed,
        error=None if error is None else to_graphql(
            error, f"no Resource with id {data.resource_id} for this tenant"
            if isinstance(error, NotFound) else None))


async def resource_rules(ctx: Context, resource: model.Resource) -> ResourceRules:
    found = await schedule_of(ctx.deps, ctx.tenant_id, resource.id, fresh=True)
    if found is None:  # deleted between the two reads: there is no delete, but say it plainly
        raise query_error(NotFound("Resource", resource.id))
    return ResourceRules.of(found)


async def slots(ctx: Context, resource_ids: Sequence[str], window: TimeWindowInput,
                duration_minutes: int, step_minutes: int | None) -> list[BookableSlots]:
    try:
        return await bookable_slots(ctx.deps, ctx.tenant_id, graph.resource_ids(resource_ids), window_of(window),
                                    duration_minutes, step_minutes)
    except DomainError as err:
        raise graph.resources_query_error(err) from None
