"""Subscription.availabilityChanged: check the request, listen, send a SNAPSHOT, then live events."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from uuid import UUID

from graphql import GraphQLError

from booking_gateway.domain import queries as use_cases
from booking_gateway.domain import rules
from booking_gateway.domain.errors import DomainError, NotFound, ValidationFailed
from booking_gateway.domain.ports import ChangeReason
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.live.hub import LiveHub
from booking_gateway.live.quotas import Lease, QuotaExceeded, TenantQuotas
from booking_gateway.live.routing import LiveEvent, View
from booking_gateway.resolvers import graphql_errors as graph
from booking_gateway.resolvers.context import Context
from booking_gateway.resolvers.fields import window_of
from booking_gateway.resolvers.graphql_errors import query_error
from booking_gateway.schema.inputs import TimeWindowInput

#: ``extensions.code`` of a subscription refused by a per-tenant quota.
SUBSCRIPTION_LIMIT = "SUBSCRIPTION_LIMIT"


@dataclass
class LiveContext(Context):
    """The context of one WebSocket connection; ``tenant_id`` is set by its connection_init."""

    live: LiveHub | None = None
    #: The connection_init payload, as the WebSocket protocol handlers store it.
    connection_params: dict[str, object] | None = None
    #: The socket's seat in its tenant's connection quota, taken at connection_init.
    seat: Lease | None = None


async def availability_changed(ctx: Context, resource_ids: Sequence[str],
                               window: TimeWindowInput) -> AsyncIterator[LiveEvent]:
    live = hub_of(ctx)
    try:
        ids = checked_ids(ctx, resource_ids)
        checked = window_of(window)
        rules.check_availability_window(checked, ctx.deps.limits)
    except DomainError as err:
        raise query_error(err) from None
    async with aclosing(live_events(ctx, live, ids, checked, checked, lambda: _snapshot(ctx, ids, checked))) as events:
        async for event in events:
            yield event


async def live_events(ctx: Context, live: LiveHub, ids: list[UUID], window: TimeWindow, view: View,
                      snapshot: Callable[[], Awaitable[list[LiveEvent]]]) -> AsyncGenerator[LiveEvent, None]:
    """Take the tenant's quota, listen, send the snapshot, then the live events: the one stream
    behind every subscription field (``view`` says what its events carry)."""
    lease = quota(live.quotas, ctx.tenant_id, ids, window)
    try:
        async with live.listen(ctx.tenant_id, ids, view) as listener:
            # read after listening: a change committed from now on is either in it or sent after it
            for event in await snapshot():
                listener.mailbox.sent(event)
                yield event
            async for event in listener.events():
                yield event
    finally:  # completed, failed or cancelled: the tenant's share comes back
        lease.release()


def hub_of(ctx: Context) -> LiveHub:
    """The process's hub; only a WebSocket connection's context has one."""
    if not isinstance(ctx, LiveContext) or ctx.live is None:
        raise GraphQLError("subscriptions are served over WebSocket (graphql-transport-ws or graphql-ws)",
                           extensions={"code": "BAD_REQUEST"})
    return ctx.live


def quota(quotas: TenantQuotas, tenant_id: UUID, ids: list[UUID], window: TimeWindow) -> Lease:
    """The subscription's share of the tenant's live quotas, or an error naming the setting hit."""
    try:
        return quotas.subscribe(tenant_id, len(ids), window)
    except QuotaExceeded as err:
        raise GraphQLError(err.message, extensions={
            "code": SUBSCRIPTION_LIMIT, "setting": err.setting, "limit": err.limit}) from None


def checked_ids(ctx: Context, resource_ids: Sequence[str]) -> list[UUID]:
    """The resources as ids, without duplicates: 1 to the per-query maximum."""
    ids = list(dict.fromkeys(graph.resource_ids(resource_ids)))
    if not ids or len(ids) > ctx.deps.limits.max_resources_per_query:
        raise ValidationFailed("resourceIds", f"subscribe to 1 to {ctx.deps.limits.max_resources_per_query} "
                               f"resources, not {len(ids)}")
    return ids


async def _snapshot(ctx: Context, ids: list[UUID], window: TimeWindow) -> list[LiveEvent]:
    try:
        found = await use_cases.availability(ctx.deps, ctx.tenant_id, ids, window)
    except NotFound as err:
        raise graph.resources_query_error(err) from None
    return [LiveEvent(a.resource_id, ChangeReason.SNAPSHOT, window, a) for a in found]
