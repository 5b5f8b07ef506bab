"""The one-step completion of plain-data objects answers exactly as graphql-core does."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from booking_gateway.domain.outcome import Deps
from booking_gateway.fastpath.leaf_objects import LeafObjectExecutionContext
from booking_gateway.resolvers.context import Context
from booking_gateway.schema.build import build_schema
from booking_gateway.schema.errors import ERROR_TYPES
from booking_gateway.schema.mutation import Mutation
from booking_gateway.schema.query import Query
from booking_gateway.schema.scalars import DATETIME
from booking_gateway.schema.types import Booking, Resource
from tests.integration.graphql_client import Client

FAST = build_schema()
REFERENCE = strawberry.Schema(query=Query, mutation=Mutation, types=[Resource, Booking, *ERROR_TYPES],
                              config=StrawberryConfig(scalar_map={datetime: DATETIME}),
                              execution_context_class=StrawberryGraphQLCoreExecutionContext)

DOCUMENTS = [
    """query($ids: [ID!]!, $w: TimeWindowInput!) { availability(resourceIds: $ids, window: $w) {
         version busy { start end } free { start end } } }""",
    """query($ids: [ID!]!, $w: TimeWindowInput!) { availability(resourceIds: $ids, window: $w) {
         __typename b: busy { __typename from: start to: end again: start } free { ...Both } } }
       fragment Both on TimeWindow { end start }""",
    """query($ids: [ID!]!, $w: TimeWindowInput!, $yes: Boolean!) { availability(resourceIds: $ids, window: $w) {
         busy { start @include(if: $yes) end @skip(if: $yes) } free { start @skip(if: $yes) end } } }""",
    """query($r: ID!) { resource(id: $r) { bookings { edges { cursor node { __typename id status start end
         reference note version createdAt resource { name timeZone } } } pageInfo { hasNextPage endCursor } } } }""",
    """query($r: ID!) { node(id: $r) { id ... on Resource { name } } }""",
]


@pytest.fixture
async def seeded(deps: Deps, tenant_id: UUID) -> tuple[Client, dict[str, Any]]:
    client = Client(deps, tenant_id)
    room = await client.resource("Leaf room")
    for i, (start, end) in enumerate([("09:00", "10:00"), ("10:00", "10:30"), ("13:00", "15:00")]):
        await client.book(room, f"2027-10-01T{start}:00Z", f"2027-10-01T{end}:00Z", f"leaf-{i}",
                          reference="order" if i else None)
    return client, {"ids": [room], "r": room, "yes": True,
                    "w": {"start": "2027-10-01T08:00:00Z", "end": "2027-10-01T18:00:00Z"}}


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_answers_equal_graphql_cores(seeded: tuple[Client, dict[str, Any]], document: str) -> None:
    client, variables = seeded
    assert FAST.execution_context_class is not None
    assert issubclass(FAST.execution_context_class, LeafObjectExecutionContext)
    assert await same_answer_from_both(client, document, variables)


async def same_answer_from_both(client: Client, document: str, variables: dict[str, Any]) -> Any:
    """The data of ``document`` through the gateway's schema, checked equal to graphql-core's."""
    answers = []
    for schema in (FAST, REFERENCE):
        result = await schema.execute(document, variable_values=variables,
                                      context_value=Context(client.tenant_id, client.deps))
        assert result.errors is None, result.errors
        answers.append(result.data)
    assert answers[0] == answers[1]
    return answers[0]


MUTATIONS = [
    # a booking (Booking has Strawberry's is_type_of) with no error (an interface, null)
    ("""mutation($i: BookSlotInput!) { bookSlot(input: $i) { clientMutationId booking { __typename id start
         end status version reference note resource { name } } error { __typename code message } } }""",
     {"start": "2027-10-02T09:00:00Z", "end": "2027-10-02T10:00:00Z", "reference": "r", "note": None}),
    # an error of an interface type, selected without fragments (completed in one step)
    ("""mutation($i: BookSlotInput!) { bookSlot(input: $i) { booking { id } error { __typename code message } } }""",
     {"start": "2027-10-01T09:30:00Z", "end": "2027-10-01T10:15:00Z"}),
    # with a fragment on the error (the general path)
    ("""mutation($i: BookSlotInput!) { bookSlot(input: $i) { error { code ... on SlotUnavailable {
         conflicts { start end } } ... on ValidationFailed { field } } } }""",
     {"start": "2027-10-01T09:30:00Z", "end": "2027-10-01T10:15:00Z"}),
    ("""mutation($i: BookSlotInput!) { bookSlot(input: $i) { error { code message ... on ValidationFailed {
         field } } } }""",
     {"start": "2027-10-01T11:00:00Z", "end": "2027-10-01T10:00:00Z"}),
]


@pytest.mark.parametrize(("document", "window"), MUTATIONS)
async def test_mutation_answers_equal_graphql_cores(seeded: tuple[Client, dict[str, Any]], document: str,
                                                    window: dict[str, Any]) -> None:
    """The same mutation through both schemas: the second is a replay of the first, so the
    answers are the same when the direct resolvers and one-step completion are right."""
    client, variables = seeded
    data = {"i": {"clientMutationId": f"leaf-m-{abs(hash(document))}", "resourceId": variables["r"], **window}}
    answer = await same_answer_from_both(client, document, data)
    assert answer["bookSlot"]


@strawberry.type
class Thing:
    name: str


@strawberry.type
class ThingQuery:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [Thing(name="a"), Thing(name=None)]  # type: ignore[arg-type]


async def test_a_null_in_a_non_null_leaf_still_errors_like_graphql_core() -> None:
    answers = []
    for cls in (LeafObjectExecutionContext, StrawberryGraphQLCoreExecutionContext):
        result = await strawberry.Schema(query=ThingQuery, execution_context_class=cls).execute("{ things { name } }")
        answers.append((result.data, [e.message for e in result.errors or []]))
    assert answers[0] == answers[1]
    assert answers[0][1], "a null in a non-null field is an error"


@strawberry.type
class ListQuery:
    @strawberry.field
    def maybe_things(self) -> list[Thing | None]:
        return [Thing(name="a"), None, Thing(name="b")]

    @strawberry.field
    def things_or_null(self) -> list[Thing]:
        return [Thing(name="a"), None]  # type: ignore[list-item]


@pytest.mark.parametrize("document", [
    "{ maybeThings { name __typename } }",
    "{ thingsOrNull { name } }",
    "{ maybeThings { ... on Thing { n: name } } }",
])
async def test_lists_with_null_items_answer_like_graphql_core(document: str) -> None:
    answers = []
    for cls in (LeafObjectExecutionContext, StrawberryGraphQLCoreExecutionContext):
        result = await strawberry.Schema(query=ListQuery, execution_context_class=cls).execute(document)
        answers.append((result.data, [(e.message, e.path) for e in result.errors or []]))
    assert answers[0] == answers[1]
