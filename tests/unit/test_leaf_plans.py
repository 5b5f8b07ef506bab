"""Leaf-object plans shared across executions of one parsed document answer like graphql-core."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import strawberry
from graphql import DocumentNode, ExecutionResult, execute, parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from booking_gateway.schema import leaf_objects
from booking_gateway.schema.leaf_objects import LeafObjectExecutionContext


@strawberry.type
class Thing:
    name: str
    size: int | None


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [Thing(name="a", size=1), Thing(name="b", size=None)]

    @strawberry.field
    def thing(self) -> Thing:
        return Thing(name="c", size=3)


SCHEMA = strawberry.Schema(query=Query)._schema


@pytest.fixture(autouse=True)
def no_shared_plans() -> Iterator[None]:
    leaf_objects._SHARED_PLANS.clear()
    yield
    leaf_objects._SHARED_PLANS.clear()


def run(document: DocumentNode, cls: type[Any], **variables: Any) -> tuple[Any, list[str]]:
    result = execute(SCHEMA, document, variable_values=variables, executor_class=cls)
    assert isinstance(result, ExecutionResult)
    return result.data, [e.message for e in result.errors or []]


def both(document: DocumentNode, **variables: Any) -> tuple[Any, list[str]]:
    fast = run(document, LeafObjectExecutionContext, **variables)
    assert fast == run(document, StrawberryGraphQLCoreExecutionContext, **variables)
    return fast


def test_a_plain_selection_is_planned_once_for_all_executions() -> None:
    document = parse("{ things { name n: name __typename size } thing { size } }")
    for _ in range(3):
        data, errors = both(document)
        assert not errors
        assert data == {"things": [{"name": "a", "n": "a", "__typename": "Thing", "size": 1},
                                   {"name": "b", "n": "b", "__typename": "Thing", "size": None}],
                        "thing": {"size": 3}}
    assert len(leaf_objects._SHARED_PLANS) == 2  # things, thing


@pytest.mark.parametrize("text", [
    "query($yes: Boolean!) { things { name size @include(if: $yes) } }",
    "query($yes: Boolean!) { things { ...F } } fragment F on Thing { name size @skip(if: $yes) }",
    "query($yes: Boolean!) { things { name ... on Thing @include(if: $yes) { size } } }",
])
def test_a_selection_that_depends_on_variables_is_planned_per_execution(text: str) -> None:
    document = parse(text)
    answers = [both(document, yes=yes) for yes in (True, False, True, False)]
    assert answers[0] == answers[2] and answers[1] == answers[3]
    assert answers[0] != answers[1]
    assert not leaf_objects._SHARED_PLANS


def test_the_shared_plans_stay_within_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leaf_objects, "_SHARED_PLANS_MAX", 3)
    for i in range(10):
        document = parse(f"{{ things {{ name{i}: name }} }}")
        data, _ = both(document)
        assert data == {"things": [{f"name{i}": "a"}, {f"name{i}": "b"}]}
        assert 0 < len(leaf_objects._SHARED_PLANS) <= 3
