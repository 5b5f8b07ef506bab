"""Resolvers of the root Query fields; another tenant's object is null or NOT_FOUND."""

from __future__ import annotations

from collections.abc import Sequence

from booking_gateway.domain import model
from booking_gateway.domain import queries as use_cases
from booking_gateway.domain.errors import DomainError
from booking_gateway.domain.ports import ResourcePage
from booking_gateway.domain.rules import check_page_size
from booking_gateway.resolvers import graphql_errors as graph
from booking_gateway.resolvers.context import Context
from booking_gateway.resolvers.cursors import parse_resource_cursor, resource_cursor
from booking_gateway.resolvers.fields import window_of
from booking_gateway.resolvers.graphql_errors import query_error
from booking_gateway.schema.ids import expect_id, parse_global_id
from booking_gateway.schema.inputs import TimeWindowInput


async def node(ctx: Context, global_id: str) -> model.Resource | model.Booking | None:
    try:
        type_name, object_id = parse_global_id(global_id, "id")
    except DomainError as err:
        raise query_error(err) from None
    if type_name == "Resource":
        return await ctx.resource_loader.load(object_id)
    if type_name == "Booking":
        return await ctx.deps.store.get_booking(ctx.tenant_id, object_id)
    return None


async def resource(ctx: Context, global_id: str) -> model.Resource | None:
    try:
        object_id = expect_id(global_id, "Resource", "id")
    except DomainError as err:
        raise query_error(err) from None
    return await ctx.resource_loader.load(object_id) if object_id else None


async def booking(ctx: Context, global_id: str) -> model.Booking | None:
    try:
        object_id = expect_id(global_id, "Booking", "id")
    except DomainError as err:
        raise query_error(err) from None
    return await ctx.deps.store.get_booking(ctx.tenant_id, object_id) if object_id else None


async def resources(ctx: Context, first: int | None,
                    after: str | None) -> tuple[ResourcePage, list[str]]:
    try:
        limit = check_page_size(first, ctx.deps.limits)
        after_id = parse_resource_cursor(after)
    except DomainError as err:
        raise query_error(err) from None
    page = await ctx.deps.store.list_resources(ctx.tenant_id, after_id, limit)
    return page, [resource_cursor(r.id) for r in page.resources]


async def availability(ctx: Context, resource_ids: Sequence[str],
                       window: TimeWindowInput) -> list[model.Availability]:
    try:
        return await use_cases.availability(ctx.deps, ctx.tenant_id, graph.resource_ids(resource_ids),
                                            window_of(window))
    except DomainError as err:
        raise graph.resources_query_error(err) from None
