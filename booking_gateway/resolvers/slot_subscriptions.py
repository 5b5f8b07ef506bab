"""Subscription.bookableSlotsChanged: availabilityChanged's machinery, with bookable starts as the state.

Checked like the ``bookableSlots`` query and limited like ``availabilityChanged`` (resource
count, window, the tenant's live quotas); one listener on the process's hub, whose reads are
``bookableSlots`` of one resource each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from uuid import UUID

from booking_gateway.domain import rules
from booking_gateway.domain.bookable_slots import bookable_slots, check_arguments
from booking_gateway.domain.errors import DomainError
from booking_gateway.domain.ports import ChangeReason
from booking_gateway.live.routing import LiveEvent, SlotsView
from booking_gateway.resolvers.context import Context
from booking_gateway.resolvers.fields import window_of
from booking_gateway.resolvers.graphql_errors import query_error, resources_query_error
from booking_gateway.resolvers.subscriptions import checked_ids, hub_of, live_events
from booking_gateway.schema.inputs import TimeWindowInput


async def bookable_slots_changed(ctx: Context, resource_ids: Sequence[str], window: TimeWindowInput,
                                 duration_minutes: int, step_minutes: int | None) -> AsyncIterator[LiveEvent]:
    live = hub_of(ctx)
    try:
        ids = checked_ids(ctx, resource_ids)
        checked = window_of(window)
        rules.check_availability_window(checked, ctx.deps.limits)
        check_arguments(ctx.deps.limits, checked, duration_minutes, step_minutes)
    except DomainError as err:
        raise query_error(err) from None
    view = SlotsView(checked, duration_minutes, step_minutes)
    # closed with this generator, so that the quota comes back at once, not when collected
    async with aclosing(live_events(ctx, live, ids, checked, view, lambda: _snapshot(ctx, view, ids))) as events:
        async for event in events:
            yield event


async def _snapshot(ctx: Context, view: SlotsView, ids: list[UUID]) -> list[LiveEvent]:
    try:
        found = await bookable_slots(ctx.deps, ctx.tenant_id, ids, view.window,
                                     view.duration_minutes, view.step_minutes)
    except DomainError as err:  # also too many candidate starts: known once the rules are read
        raise resources_query_error(err) from None
    return [LiveEvent(s.resource_id, ChangeReason.SNAPSHOT, view.window, s) for s in found]
