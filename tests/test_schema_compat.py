"""The exported schema only grows: no change that breaks a client written against an earlier one.

``contract/released/schema.graphql`` is the export as it stood before the holds, rules and
GraphQL-over-HTTP work (issue 13 and 14); ``contract/api/schema.graphql`` is the binding contract.
graphql-core's ``find_breaking_changes`` is the check ``graphql-inspector diff`` makes for its
"breaking" class: a removed or retyped field, argument, type or enum value, a new required
argument or input field. Additions (types, fields, optional arguments, enum values) pass; a
client that switches exhaustively over an enum must expect new values, as the README says.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, find_breaking_changes

ROOT = Path(__file__).resolve().parent.parent
BASELINES = ("contract/released/schema.graphql", "contract/api/schema.graphql")


def _schema(relative: str) -> GraphQLSchema:
    return build_schema((ROOT / relative).read_text())


@pytest.mark.parametrize("baseline", BASELINES)
def test_the_exported_schema_only_adds_to(baseline: str) -> None:
    changes = find_breaking_changes(_schema(baseline), _schema("schema.graphql"))
    assert not changes, "\n".join(f"{c.type.name}: {c.description}" for c in changes)


def test_the_check_sees_a_removed_field() -> None:
    """The check has teeth: dropping one field of the released schema is reported."""
    released = (ROOT / BASELINES[0]).read_text()
    weakened = released.replace("  replayed: Boolean!\n", "", 1)
    assert weakened != released
    changes = find_breaking_changes(build_schema(released), build_schema(weakened))
    assert [c.type.name for c in changes] == ["FIELD_REMOVED"]
