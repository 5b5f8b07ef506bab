"""Expected failures of queries (which have no payload) as GraphQL errors with a code."""

from __future__ import annotations

from graphql import GraphQLError

from booking_gateway.domain.errors import DomainError, ValidationFailed


def query_error(error: DomainError, message: str | None = None) -> GraphQLError:
    extensions: dict[str, object] = {"code": error.code.value}
    if isinstance(error, ValidationFailed) and error.field:
        extensions["field"] = error.field
    return GraphQLError(message or error.message, extensions=extensions)
