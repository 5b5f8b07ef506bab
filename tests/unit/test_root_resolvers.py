"""Root fields called directly answer exactly as through Strawberry's resolver wrapper."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from booking_gateway.fastpath import root_resolvers
from booking_gateway.schema.build import build_schema
from booking_gateway.schema.inputs import flat_input


@flat_input
@strawberry.input
class Window:
    start_at: int
    end_at: int = 10
    label: str | None = "none"


@strawberry.enum
class Colour(Enum):
    RED = "red"


class Upper(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, info: Info, window: Window, tags: list[str] | None = None, count: int = 3,
             maybe: Window | None = None, max_count: int | None = None) -> str:
        assert info.context == {"who": "me"}
        assert info.field_name == "echo"
        return repr((window.start_at, window.end_at, window.label, tags, count, max_count,
                     None if maybe is None else (maybe.start_at, maybe.end_at, maybe.label)))

    @strawberry.field
    def by_colour(self, colour: Colour) -> str:
        return colour.value

    @strawberry.field(extensions=[Upper()])
    def shout(self, info: Info, text: str) -> str:
        return text

    @strawberry.field
    def fails(self, info: Info, text: str) -> str:
        raise ValueError(f"no {text}")


def schemas() -> tuple[strawberry.Schema, strawberry.Schema, list[str]]:
    direct, wrapped = strawberry.Schema(query=Query), strawberry.Schema(query=Query)
    return direct, wrapped, root_resolvers.install(direct)


def answer(schema: strawberry.Schema, document: str, **variables: Any) -> tuple[Any, list[Any]]:
    result = execute(schema._schema, parse(document), context_value={"who": "me"}, variable_values=variables)
    assert isinstance(result, ExecutionResult)
    return result.data, [(e.message, e.path) for e in result.errors or []]


def test_only_fields_without_extensions_and_with_plain_arguments_are_called_directly() -> None:
    _, _, installed = schemas()
    assert installed == ["Query.echo", "Query.fails"]  # not the enum argument, not the extension


def test_every_root_field_of_the_gateway_is_called_directly() -> None:
    # not setResourceRules: its input nests lists of input objects, Strawberry converts it
    assert sorted(root_resolvers.install(build_schema())) == sorted([
        "Query.node", "Query.resource", "Query.resources", "Query.booking", "Query.availability",
        "Query.bookableSlots", "Mutation.createResource", "Mutation.bookSlot", "Mutation.cancelBooking",
        "Mutation.rescheduleBooking", "Mutation.holdSlot", "Mutation.confirmBooking", "Mutation.releaseHold"])


@pytest.mark.parametrize(("document", "variables"), [
    ("{ echo(window: {startAt: 1}) }", {}),
    ('{ echo(window: {startAt: 1, endAt: 5, label: null}, tags: ["a", "b"], count: 7) }', {}),
    ("{ echo(window: {startAt: 1}, tags: null, maybe: null) }", {}),
    ('{ echo(window: {startAt: 2, label: "x"}, maybe: {startAt: 4}, maxCount: 9) }', {}),
    ("query($w: Window!, $t: [String!]) { echo(window: $w, tags: $t) }", {"w": {"startAt": 3}}),
    ("query($w: Window!, $t: [String!]) { echo(window: $w, tags: $t) }",
     {"w": {"startAt": 3, "endAt": 4, "label": "y"}, "t": ["z"]}),
    ('{ byColour(colour: RED) shout(text: "hi") }', {}),
    ('{ fails(text: "luck") }', {}),
])
def test_answers_and_errors_are_the_wrapped_ones(document: str, variables: dict[str, Any]) -> None:
    direct, wrapped, _ = schemas()
    data, errors = answer(direct, document, **variables)
    assert (data, errors) == answer(wrapped, document, **variables)
    assert data is not None or errors
