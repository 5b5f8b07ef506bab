"""What clients see of execution errors: graphql-core's "Did you mean ...?" names the schema's
enum values and input fields, so it is stripped where introspection is off (issue 12)."""

from __future__ import annotations

from typing import Any

from graphql import ExecutionResult, GraphQLError, execute

from booking_gateway.schema.build import build_schema
from booking_gateway.web.documents import DocumentCache, DocumentLimits
from booking_gateway.web.errors import MAX_MESSAGE, masked

SCHEMA = build_schema()._schema
DOCUMENTS = DocumentCache(SCHEMA, DocumentLimits(introspection=False))

BY_STATUS = "query($s: BookingStatus) { resource(id: \"x\") { bookings(status: $s) { pageInfo { hasNextPage } } } }"
CREATE = "mutation($i: CreateResourceInput!) { createResource(input: $i) { clientMutationId } }"


def coercion_errors(query: str, variables: dict[str, Any]) -> list[GraphQLError]:
    """Variables are coerced before any resolver runs: no context needed."""
    document = DOCUMENTS.prepare(query).document
    assert document is not None
    result = execute(SCHEMA, document, variable_values=variables)
    assert isinstance(result, ExecutionResult)
    assert result.errors
    return result.errors


def test_an_enum_typo_is_not_answered_with_the_enum_values() -> None:
    error = coercion_errors(BY_STATUS, {"s": "CONFRIMED"})[0]
    assert "Did you mean the enum value 'CONFIRMED'?" in error.message  # what graphql-core says
    hidden = masked(error, "r1", suggestions=False)
    assert hidden["message"] == ("Variable '$s' has invalid value: Value 'CONFRIMED' does not exist in "
                                 "'BookingStatus' enum.")
    assert hidden["locations"] == [{"line": 1, "column": 7}]
    assert masked(error, "r1")["message"] == error.message  # development: kept


def test_an_input_field_typo_is_not_answered_with_the_field_names() -> None:
    error = coercion_errors(CREATE, {"i": {"clientMutationId": "c", "name": "Room", "timeZon": "UTC"}})[0]
    assert " Did you mean 'timeZone'? " in error.message
    assert masked(error, "r2", suggestions=False)["message"] == (
        "Variable '$i' has invalid value: Expected value of type 'CreateResourceInput' not to include unknown field "
        "'timeZon'. Found: {'clientMutationId': 'c', 'name': 'Room', 'timeZon': 'UTC'}.")


def test_long_messages_are_still_cut_after_stripping() -> None:
    error = GraphQLError("x" * (MAX_MESSAGE + 10) + " Did you mean 'y'?")
    assert masked(error, "r3", suggestions=False)["message"] == "x" * MAX_MESSAGE + "... (cut)"
