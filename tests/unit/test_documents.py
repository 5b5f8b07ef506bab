"""The document cache's limits against the real schema (issue 12): depth and aliases counted in
linear time, the cost of an operation with its variables, error codes, and no suggestions
without introspection."""

from __future__ import annotations

import time
from typing import Any

import pytest
from graphql import GraphQLError, parse, validate
from strawberry.extensions.max_aliases import create_validator as strawberry_aliases
from strawberry.extensions.query_depth_limiter import create_validator as strawberry_depth

from booking_gateway.infra.settings import SettingsError, load_settings
from booking_gateway.schema.build import build_schema
from booking_gateway.web.document_shape import shape
from booking_gateway.web.documents import DocumentCache, DocumentLimits, PreparedDocument
from tests.integration.graphql_client import AVAILABILITY, BOOK, CREATE_RESOURCE

SCHEMA = build_schema()._schema
RESOURCE = "UmVzb3VyY2U6MDE5M2QyYjQtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAx"


def doubling(fragments: int, leaf: str = "__typename") -> str:
    """Each fragment spreads the next twice: 2**(n-1) paths to the last one (issue 12's probe)."""
    return " ".join(["query { ...F0 }",
                     *(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(fragments - 1)),
                     f"fragment F{fragments - 1} on Query {{ {leaf} }}"])


def codes(prepared: PreparedDocument) -> list[str]:
    return [e.extensions["code"] for e in prepared.errors if e.extensions]


def cache(**limits: Any) -> DocumentCache:
    return DocumentCache(SCHEMA, DocumentLimits(**limits))


# --- depth and aliases in linear time ---

def test_the_probes_22_fragment_document_is_answered_at_once() -> None:
    query = doubling(22)
    assert len(query) == 864  # the probe's document, byte for byte as long
    started = time.perf_counter()
    prepared = cache().prepare(query)
    assert time.perf_counter() - started < 0.5  # Strawberry's validators: 20.6 s here (2**21 walks)
    assert prepared.errors == ()  # valid, and depth 0, no aliases: the cost refuses it (below)


def test_40_doubling_fragments_are_walked_once_each_and_refused() -> None:
    query = doubling(40, leaf="x: __typename")
    document = parse(query)
    assert shape(document).nodes == 1 + 2 * 39 + 1  # every selection once, not 2**39 times
    assert shape(document).operations[0].aliases == 2 ** 39  # each spread counted, by multiplying
    started = time.perf_counter()
    prepared = cache().prepare(query)
    assert time.perf_counter() - started < 0.5  # hours with Strawberry's validators
    assert codes(prepared) == ["TOO_MANY_ALIASES"]
    assert prepared.errors[0].message.startswith(f"{2 ** 39} aliases found. Allowed: 30")
    assert "BOOKING_MAX_ALIASES" in prepared.errors[0].message


def test_40_doubling_fragments_without_aliases_are_refused_by_their_cost() -> None:
    documents = cache()
    prepared = documents.prepare(doubling(40))
    assert prepared.errors == ()  # the specified rules are linear on it too
    assert documents.cost(prepared, None, None) == 2 ** 39  # __typename once per path, as a list would be
    error = documents.cost_error(prepared, None, None)
    assert error is not None
    assert error.extensions == {"code": "QUERY_TOO_COSTLY"}


def test_a_fragment_cycle_is_a_validation_error_not_a_hang() -> None:
    cyclic = ("{ ...A } fragment A on Query { __typename ...B } fragment B on Query { resources { ...C } } "
              "fragment C on ResourceConnection { edges { node { id } } ...D } "
              "fragment D on ResourceConnection { ...C }")
    operation = shape(parse(cyclic)).operations[0]
    assert operation.depth == 3  # the cycle cut where it closes
    prepared = cache().prepare(cyclic)
    assert codes(prepared)
    assert set(codes(prepared)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert any("Cannot spread fragment" in e.message for e in prepared.errors)


DEPTH_CASES = [
    "{ __typename }",
    "{ resources { edges { node { id } } } }",
    "{ resources { edges { node { bookings { edges { node { resource { name } } } } } } } }",
    "{ resource(id: \"x\") { ...R } } fragment R on Resource { bookings { edges { node { ...B } } } } "
    "fragment B on Booking { resource { name ...N } } fragment N on Resource { bookings { pageInfo { hasNextPage } } }",
    "{ __schema { types { fields { type { ofType { ofType { name } } } } } } resources { pageInfo { endCursor } } }",
    "{ resource(id: \"x\") { ... on Resource { bookings { edges { ... on BookingEdge { node { id } } } } } } }",
    "query A { resources { edges { cursor } } } query B { node(id: \"x\") { ... on Booking { resource { id } } } }",
]


@pytest.mark.parametrize("query", DEPTH_CASES)
def test_depth_and_aliases_are_counted_as_strawberry_counted_them(query: str) -> None:
    document = parse(query)
    for limit in range(8):
        old = validate(SCHEMA, document, [strawberry_depth(limit, None)])
        new = [e for e in cache(max_depth=limit).prepare(query).errors if e.extensions == {"code": "QUERY_TOO_DEEP"}]
        assert bool(old) == bool(new), (limit, old, new)
    aliased = query.replace("id }", "i: id }").replace("name", "n: name")
    old_aliases = validate(SCHEMA, parse(aliased), [strawberry_aliases(0)])
    expected = int(old_aliases[0].message.split()[0]) if old_aliases else 0
    assert sum(o.aliases for o in shape(parse(aliased)).operations) == expected


def test_depth_and_alias_refusals_name_the_limit() -> None:
    deep = cache(max_depth=4).prepare(DEPTH_CASES[2])
    assert codes(deep) == ["QUERY_TOO_DEEP"]
    assert "'anonymous' exceeds maximum operation depth of 4: it nests 7 levels" in deep.errors[0].message
    assert "BOOKING_MAX_QUERY_DEPTH" in deep.errors[0].message
    aliased = cache(max_aliases=3).prepare("{ ...F ...F } fragment F on Query { a: __typename b: __typename }")
    assert codes(aliased) == ["TOO_MANY_ALIASES"]
    assert aliased.errors[0].message.startswith("4 aliases found. Allowed: 3")


def test_every_refusal_has_a_code() -> None:
    documents = cache(max_tokens=50, introspection=False)
    assert codes(documents.prepare("{ resources ")) == ["GRAPHQL_PARSE_FAILED"]
    many = documents.prepare("{ " + "__typename " * 60 + "}")
    assert codes(many) == ["TOO_MANY_TOKENS"]
    assert "more than 50 tokens (limit BOOKING_MAX_TOKENS)" in many.errors[0].message
    assert set(codes(documents.prepare("{ __schema { types { name } } }"))) == {"INTROSPECTION_DISABLED"}
    assert codes(documents.prepare("{ resourcs }")) == ["GRAPHQL_VALIDATION_FAILED"]


def test_refusals_are_cached_and_the_cache_stays_bounded() -> None:
    documents = DocumentCache(SCHEMA, DocumentLimits(), size=3)
    refused = documents.prepare(doubling(30, leaf="x: __typename"))
    assert documents.prepare(doubling(30, leaf="x: __typename")) is refused
    for n in range(10):
        documents.prepare(f"{{ a{n}: __typename }}")
    assert len(documents._cache) == 3


# --- cost ---

def attack(aliases: int = 30) -> str:
    """Issue 12's probe: 5 KB, within every other limit, 42 MiB of answer in 4.6 s."""
    one = (f'resource(id: "{RESOURCE}") {{ bookings(first: 100) {{ edges {{ node {{ id start end resource {{ '
           'bookings(first: 100) { edges { node { id start end } } } } } } } }')
    return "{ " + " ".join(f"a{i}: {one}" for i in range(aliases)) + " }"


WEEK = {"start": "2026-12-01T00:00:00Z", "end": "2026-12-08T00:00:00Z"}
YEAR = {"start": "2026-01-01T00:00:00+01:00", "end": "2026-12-31T23:00:00Z"}
LISTING = """{ resources { edges { node { id name timeZone
    availability(window: {start: "2031-03-01T00:00:00Z", end: "2031-03-04T00:00:00Z"}) { version busy { start end } }
    bookings { edges { node { id start end status version reference note updatedAt } } } } } } }"""


def test_nested_pages_under_aliases_are_refused_by_cost() -> None:
    documents = cache()
    prepared = documents.prepare(attack())
    assert prepared.errors == ()  # depth 8, 30 aliases, ~1,700 tokens: within the other limits
    error = documents.cost_error(prepared, None, None)
    assert error is not None
    assert error.message.startswith("the operation costs 1521060, more than the limit of 150000 (BOOKING_MAX_COST)")
    assert error.extensions == {"code": "QUERY_TOO_COSTLY"}
    assert documents.cost(prepared, None, None) == 30 * documents.cost(documents.prepare(attack(1)), None, None)


def test_legitimate_queries_cost_less_than_the_default_limit() -> None:
    documents = cache()
    costs = {name: documents.cost(documents.prepare(query), None, variables) for name, query, variables in [
        ("book", BOOK, {"input": {}}), ("create", CREATE_RESOURCE, {"input": {}}),
        ("availability, a week of 100", AVAILABILITY, {"ids": [RESOURCE] * 100, "window": WEEK}),
        ("availability, a year of 100", AVAILABILITY, {"ids": [RESOURCE] * 100, "window": YEAR}),
        ("everything", LISTING, None)]}
    assert costs == {"book": 222, "create": 11, "availability, a week of 100": 3501,
                     "availability, a year of 100": 146701, "everything": 101501}
    assert all(documents.cost_error(documents.prepare(LISTING), None, None) is None for _ in range(2))


def test_availability_counts_ids_as_sent_times_days() -> None:
    documents = cache()
    prepared = documents.prepare(AVAILABILITY)
    one = documents.cost(prepared, None, {"ids": [RESOURCE], "window": YEAR})
    copies = documents.cost(prepared, None, {"ids": [RESOURCE] * 3000, "window": YEAR})
    assert one == 1 + 5 + 2 * (1 + 365 * 2)  # resourceId version window{start end}, busy and free per day
    assert copies == 1 + 3000 * (one - 1)
    error = documents.cost_error(prepared, None, {"ids": [RESOURCE] * 3000, "window": YEAR})
    assert error is not None
    assert "costs 4401001" in error.message
    empty = {"ids": [RESOURCE] * 3000, "window": {**WEEK, "end": WEEK["start"]}}
    assert documents.cost_error(prepared, None, empty) is None  # refused by the resolver: a day's worth
    ids = ", ".join([f'"{RESOURCE}"'] * 3000)
    inline = cache(max_tokens=10_000).prepare(
        f'{{ availability(resourceIds: [{ids}], window: {{start: "{YEAR["start"]}", end: "{YEAR["end"]}"}}) '
        "{ busy { start } } }")
    assert documents.cost(inline, None, None) == 1 + 3000 * (1 + 365 * 1)


def test_pages_follow_first_its_variable_its_default_and_the_largest_page() -> None:
    documents = cache()
    query = "query($n: Int = 7) { resources(first: $n) { edges { node { id } } } }"
    prepared = documents.prepare(query)
    assert documents.cost(prepared, None, {"n": 3}) == 1 + 3 * 3
    assert documents.cost(prepared, None, {}) == 1 + 7 * 3  # the variable's default
    assert documents.cost(prepared, None, {"n": None}) == 1 + 100 * 3  # null: the largest page
    assert documents.cost(prepared, None, {"n": 10 ** 9}) == 1 + 100 * 3  # the resolver refuses it anyway
    assert documents.cost(documents.prepare("{ resources { edges { node { id } } } }"), None, None) == 1 + 100 * 3


def test_a_document_without_variables_in_its_sizes_is_costed_once() -> None:
    documents = cache()
    fixed = documents.prepare(attack(2))
    assert fixed.cost is not None
    assert fixed.cost.fixed == {None: 2 * 50_702}
    named = documents.prepare("query A { __typename } "
                              "query B($n: Int) { resources(first: $n) { pageInfo { hasNextPage } } }")
    assert named.cost is not None
    assert named.cost.fixed is None
    assert documents.cost(named, "A", {}) == 1
    assert documents.cost(named, "B", {"n": 1}) == 3
    assert documents.cost(named, None, {}) is None  # several operations and no name: refused elsewhere


def test_a_subscription_is_costed_like_the_query() -> None:
    documents = cache(max_cost=1000)
    prepared = documents.prepare("subscription($ids: [ID!]!, $w: TimeWindowInput!) { availabilityChanged("
                                 "resourceIds: $ids, window: $w) { reason availability { busy { start end } } } }")
    assert documents.cost(prepared, None, {"ids": [RESOURCE], "w": WEEK}) == 1 + 1 + 1 + 1 + 7 * 2
    assert documents.cost_error(prepared, None, {"ids": [RESOURCE] * 100, "w": WEEK}) is not None


# --- suggestions ---

def test_validation_errors_suggest_nothing_without_introspection() -> None:
    typos = ["{ resourcs }", "{ resources(frist: 1) { pageInfo { hasNextPage } } }",
             "query($w: TimeWindowInpt) { __typename }",
             '{ resource(id: "x") { bookings(status: CONFRIMED) { pageInfo { hasNextPage } } } }']
    for typo in typos:
        shown = cache().prepare(typo).errors
        assert any("Did you mean" in e.message for e in shown), typo
        hidden = cache(introspection=False).prepare(typo).errors
        assert hidden, typo
        assert not any("Did you mean" in e.message for e in hidden), typo


def test_the_cost_refusal_is_a_graphql_error() -> None:
    error = cache(max_cost=1).cost_error(cache(max_cost=1).prepare("{ a: __typename b: __typename }"), None, None)
    assert isinstance(error, GraphQLError)
    assert error.formatted == {"message": "the operation costs 2, more than the limit of 1 (BOOKING_MAX_COST); "
                                          "ask for smaller pages (first:), fewer resourceIds or shorter windows",
                               "extensions": {"code": "QUERY_TOO_COSTLY"}}


def test_the_cost_limit_is_a_setting_with_the_same_default() -> None:
    assert load_settings().max_cost == DocumentLimits().max_cost == 150_000
    with pytest.raises(SettingsError, match="BOOKING_MAX_COST=0 is invalid"):
        load_settings(max_cost=0)
