"""What clients see of execution errors: graphql-core's "Did you mean ...?" names the schema's
enum values and input fields, so it is stripped where introspection is off (issue 12)."""

from __future__ import annotations

from typing import Any

from graphql import ExecutionResult, GraphQLError, execute

from booking_gateway.domain.errors import ValidationFailed
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


def test_a_variable_coercion_error_is_bad_user_input() -> None:
    error = coercion_errors(BY_STATUS, {"s": "CONFRIMED"})[0]
    assert error.extensions in (None, {})  # graphql-core gives none
    assert masked(error, "r3")["extensions"] == {"code": "BAD_USER_INPUT"}


def test_an_unexpected_error_is_masked_as_internal_server_error() -> None:
    error = GraphQLError("boom: password=hunter2", path=["resources"], original_error=RuntimeError("boom"))
    body = masked(error, "r4")
    assert body["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "r4"}
    assert "hunter2" not in body["message"]


def test_a_completion_error_of_the_server_is_internal_and_a_given_code_is_kept() -> None:
    null = GraphQLError("Cannot return null for non-nullable field Query.x.", path=["x"])
    assert masked(null, "r5")["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    coded = GraphQLError("over the limit", extensions={"code": "QUERY_TOO_COSTLY"})
    assert masked(coded, "r6")["extensions"] == {"code": "QUERY_TOO_COSTLY"}


def test_a_domain_error_raised_as_is_carries_its_own_code() -> None:
    error = GraphQLError("start has no UTC offset", path=["booking"],
                         original_error=ValidationFailed("start", "start has no UTC offset"))
    assert masked(error, "r7")["extensions"] == {"code": "VALIDATION_FAILED"}
