"""Leaf-object plans shared across executions of one parsed document answer like graphql-core."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import strawberry
from graphql import DocumentNode, ExecutionResult, GraphQLSchema, execute, parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from booking_gateway.fastpath import leaf_objects
from booking_gateway.fastpath.leaf_objects import LeafObjectExecutionContext


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


@strawberry.type
class Box:
    label: str
    things: list[Thing]
    maybe_things: list[Thing | None] | None
    first: Thing
    spare: Thing | None


def box(label: str, **broken: Any) -> Box:
    values: dict[str, Any] = {"label": label, "things": [Thing(name="a", size=1), Thing(name="b", size=None)],
                              "maybe_things": None, "first": Thing(name="f", size=2), "spare": None}
    return Box(**{**values, **broken})


@strawberry.type
class BoxQuery:
    @strawberry.field
    def boxes(self) -> list[Box]:
        return [box("ok"), box("items", maybe_things=[None, Thing(name="m", size=None)]),
                box("spare", spare=Thing(name="s", size=4))]

    @strawberry.field
    def broken(self) -> list[Box | None]:
        return [box("ok"), box("null name", things=[Thing(name=None, size=1)]),  # type: ignore[arg-type]
                box("null first", first=None), box("not a list", things=Thing(name="x", size=0))]


SCHEMA = strawberry.Schema(query=Query)._schema
BOX_SCHEMA = strawberry.Schema(query=BoxQuery)._schema


@pytest.fixture(autouse=True)
def no_shared_plans() -> Iterator[None]:
    leaf_objects._SHARED_PLANS.clear()
    yield
    leaf_objects._SHARED_PLANS.clear()


def run(document: DocumentNode, cls: type[Any], schema: GraphQLSchema = SCHEMA,
        **variables: Any) -> tuple[Any, list[tuple[str, Any]]]:
    result = execute(schema, document, variable_values=variables, executor_class=cls)
    assert isinstance(result, ExecutionResult)
    return result.data, [(e.message, e.path) for e in result.errors or []]


def both(document: DocumentNode, schema: GraphQLSchema = SCHEMA, **variables: Any) -> tuple[Any, list[Any]]:
    fast = run(document, LeafObjectExecutionContext, schema, **variables)
    assert fast == run(document, StrawberryGraphQLCoreExecutionContext, schema, **variables)
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
    assert answers[0] == answers[2]
    assert answers[1] == answers[3]
    assert answers[0] != answers[1]
    assert not leaf_objects._SHARED_PLANS


def test_the_shared_plans_stay_within_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leaf_objects, "_SHARED_PLANS_MAX", 3)
    for i in range(10):
        document = parse(f"{{ things {{ name{i}: name }} }}")
        data, _ = both(document)
        assert data == {"things": [{f"name{i}": "a"}, {f"name{i}": "b"}]}
        assert 0 < len(leaf_objects._SHARED_PLANS) <= 3


def test_objects_with_lists_of_plain_objects_are_completed_in_one_step() -> None:
    document = parse("{ boxes { label things { name size } maybeThings { name } first { name } "
                     "spare { size __typename } } }")
    for _ in range(2):
        data, errors = both(document, BOX_SCHEMA)
        assert not errors
        assert data["boxes"][1]["maybeThings"] == [None, {"name": "m"}]
        assert data["boxes"][2]["spare"] == {"size": 4, "__typename": "Thing"}
    assert any(key[0].name == "Box" for key in leaf_objects._SHARED_PLANS)


@pytest.mark.parametrize("text", [
    "{ broken { label things { name size } first { name } } }",
    "{ broken { label things { size } first { size } } }",
    "{ broken { things { name } } }",
])
def test_errors_inside_nested_objects_answer_like_graphql_core(text: str) -> None:
    data, errors = both(parse(text), BOX_SCHEMA)
    assert data["broken"][0] is not None
    assert errors or "name" not in text


def test_a_directive_on_a_nested_field_is_honoured() -> None:
    document = parse("query($yes: Boolean!) { boxes { label things @include(if: $yes) { name } } }")
    assert both(document, BOX_SCHEMA, yes=True) != both(document, BOX_SCHEMA, yes=False)
    assert not any(key[0].name == "Box" for key in leaf_objects._SHARED_PLANS)


@strawberry.interface
class Problem:
    code: str


@strawberry.type
class Late(Problem):
    minutes: int


@strawberry.type
class Lost(Problem):
    where: str | None


@strawberry.type
class Parcel(Problem):  # implements an interface: Strawberry gives it an is_type_of
    weight: int


class HeavyLate(Late):
    """A subclass: Strawberry resolves it as Late by isinstance; the one-step path does not know it."""


@strawberry.type
class Outcome:
    label: str
    parcel: Parcel | None
    problem: Problem | None


@strawberry.type
class OutcomeQuery:
    @strawberry.field
    def outcomes(self) -> list[Outcome]:
        return [Outcome(label="ok", parcel=Parcel(code="p", weight=2), problem=None),
                Outcome(label="late", parcel=None, problem=Late(code="L", minutes=5)),
                Outcome(label="lost", parcel=None, problem=Lost(code="X", where=None)),
                Outcome(label="sub", parcel=None, problem=HeavyLate(code="H", minutes=9)),
                Outcome(label="cast", parcel=None, problem=strawberry.cast(Lost, Late(code="C", minutes=1)))]

    @strawberry.field
    def wrong(self) -> Outcome:
        return Outcome(label="wrong type", parcel=Outcome(label="x", parcel=None, problem=None),  # type: ignore[arg-type]
                       problem=None)


OUTCOME_SCHEMA = strawberry.Schema(query=OutcomeQuery, types=[Late, Lost, Parcel])._schema


def test_objects_with_is_type_of_and_interfaces_are_completed_in_one_step() -> None:
    document = parse("{ outcomes { label parcel { __typename code weight } problem { __typename code } } }")
    for _ in range(2):
        data, errors = both(document, OUTCOME_SCHEMA)
        assert not errors
        assert [o["problem"] and o["problem"]["__typename"] for o in data["outcomes"]] == [
            None, "Late", "Lost", "Late", "Lost"]
    assert any(key[0].name == "Outcome" for key in leaf_objects._SHARED_PLANS)


def test_a_value_of_the_wrong_type_errors_like_graphql_core() -> None:
    data, errors = both(parse("{ wrong { label parcel { code } } }"), OUTCOME_SCHEMA)
    assert data == {"wrong": {"label": "wrong type", "parcel": None}}
    assert errors
    assert "Expected value of type 'Parcel'" in errors[0][0]


def test_an_interface_selected_with_fragments_goes_the_general_way() -> None:
    document = parse("{ outcomes { problem { code ... on Late { minutes } ... on Lost { where } } } }")
    data, errors = both(document, OUTCOME_SCHEMA)
    assert [path for _, path in errors] == [["outcomes", 4, "problem", "where"]]  # the cast Late has no 'where'
    assert data["outcomes"][1]["problem"] == {"code": "L", "minutes": 5}
    assert not any(key[0].name == "Outcome" for key in leaf_objects._SHARED_PLANS)


@strawberry.type
class Tagged:
    name: str
    tags: list[str]


@strawberry.type
class TaggedQuery:
    @strawberry.field
    def tagged(self) -> list[Tagged]:
        return [Tagged(name="a", tags=["x", "y"]), Tagged(name="b", tags=[])]

    @strawberry.field
    def broken_tags(self) -> list[Tagged | None]:
        return [Tagged(name="ok", tags=["z"]), Tagged(name="null tag", tags=["x", None])]  # type: ignore[list-item]


TAGGED_SCHEMA = strawberry.Schema(query=TaggedQuery)._schema


def test_lists_of_scalars_are_completed_in_one_step_and_errors_go_the_general_way() -> None:
    data, errors = both(parse("{ tagged { name tags } }"), TAGGED_SCHEMA)
    assert (data, errors) == ({"tagged": [{"name": "a", "tags": ["x", "y"]}, {"name": "b", "tags": []}]}, [])
    assert any(key[0].name == "Tagged" for key in leaf_objects._SHARED_PLANS)
    data, errors = both(parse("{ brokenTags { name tags } }"), TAGGED_SCHEMA)
    assert data == {"brokenTags": [{"name": "ok", "tags": ["z"]}, None]}
    assert errors
