"""Assembling the Strawberry schema, and exporting its SDL (the file ``schema.graphql``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from booking_gateway.fastpath import hooks
from booking_gateway.schema.errors import ERROR_TYPES
from booking_gateway.schema.mutation import Mutation
from booking_gateway.schema.query import Query
from booking_gateway.schema.scalars import DATETIME
from booking_gateway.schema.subscription import Subscription
from booking_gateway.schema.types import Booking, Resource

HEADER = """\
# The public contract of booking-gateway, exported from the code by `booking-gateway export-schema`.
# Do not edit by hand: tests fail when this file and the code drift apart.
"""


class QuietSchema(strawberry.Schema):
    """Strawberry's schema without its error log: Strawberry logs every error of every operation,
    expected ones (a typo in a query) included, with a traceback; the gateway logs the unexpected
    ones where it masks them (web/errors.masked), once, under the request id."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Nothing: see the class."""


def build_schema(extensions: Sequence[type[SchemaExtension] | Callable[[], SchemaExtension]] = (),
                 subscription: type | None = Subscription, *, fast_path: bool = True) -> strawberry.Schema:
    """The schema; ``fast_path=False`` builds it without any of the fast path's hooks
    (:mod:`booking_gateway.fastpath.hooks`): plain Strawberry, as the differential test's reference."""
    schema = (strawberry.Schema if fast_path else QuietSchema)(
        query=Query,
        mutation=Mutation,
        subscription=subscription,
        types=[Resource, Booking, *ERROR_TYPES],
        extensions=list(extensions),
        config=StrawberryConfig(scalar_map={datetime: DATETIME}),
        **(hooks.schema_options() if fast_path else {}),
    )
    if fast_path:
        hooks.install(schema)
    return schema


def export_sdl(schema: strawberry.Schema | None = None) -> str:
    return HEADER + "\n" + (schema or build_schema()).as_str() + "\n"
