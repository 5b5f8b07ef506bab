"""Expected failures of queries (which have no payload) as GraphQL errors with a code."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from graphql import GraphQLError

from booking_gateway.domain.errors import DomainError, NotFound, ValidationFailed
from booking_gateway.schema.ids import expect_id, to_global_id


def query_error(error: DomainError, message: str | None = None) -> GraphQLError:
    extensions: dict[str, object] = {"code": error.code.value}
    if isinstance(error, ValidationFailed) and error.field:
        extensions["field"] = error.field
    return GraphQLError(message or error.message, extensions=extensions)


def resource_ids(global_ids: Sequence[str]) -> list[UUID]:
    """The ids of a per-resource query's ``resourceIds``: a malformed one is VALIDATION_FAILED
    naming its index, an id of another type NOT_FOUND."""
    ids = []
    for index, global_id in enumerate(global_ids):
        object_id = expect_id(global_id, "Resource", f"resourceIds[{index}]")
        if object_id is None:
            raise query_error(NotFound("Resource", None), f"no Resource with id {global_id} for this tenant")
        ids.append(object_id)
    return ids


def resources_query_error(error: DomainError) -> GraphQLError:
    """A per-resource query's failure; a resource of another tenant is NOT_FOUND by its global id."""
    if isinstance(error, NotFound) and error.object_id is not None:
        return query_error(error, f"no Resource with id {to_global_id('Resource', error.object_id)} "
                                  "for this tenant")
    return query_error(error)
