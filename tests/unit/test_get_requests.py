"""GET query strings become the payload a POST body would carry, or a clear refusal."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from booking_gateway.web.admission import Request, operation_request
from booking_gateway.web.get_requests import get_payload

HASH = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"


def qs(**params: str) -> bytes:
    return urlencode(params).encode()


def test_query_variables_extensions_and_operation_name_are_read() -> None:
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": HASH}})
    payload = get_payload(qs(query="query Q($n: Int) { __typename }", variables='{"n": 3}', extensions=extensions,
                             operationName="Q"))
    assert payload == {"query": "query Q($n: Int) { __typename }", "variables": {"n": 3},
                       "extensions": {"persistedQuery": {"version": 1, "sha256Hash": HASH}},
                       "operationName": "Q"}
    assert operation_request(payload, "the query string") == Request(
        "query Q($n: Int) { __typename }", {"n": 3}, "Q", HASH)


def test_unicode_and_plus_encoded_spaces_are_decoded() -> None:
    assert get_payload(b"query=%7B+__type%28name%3A+%22Run%F0%9F%8F%83%22%29+%7B+name+%7D+%7D") == {
        "query": '{ __type(name: "Run\U0001f3c3") { name } }'}


def test_blank_parameters_mean_absent_and_unknown_ones_are_ignored() -> None:
    payload = get_payload(b"query=%7B__typename%7D&variables=&extensions=&operationName=&utm_source=x")
    assert payload == {"query": "{__typename}", "variables": None, "extensions": None, "operationName": None}


def test_null_variables_are_accepted() -> None:
    assert get_payload(qs(query="{ __typename }", variables="null")) == {"query": "{ __typename }",
                                                                         "variables": None}


@pytest.mark.parametrize(("query_string", "message"), [
    (qs(query="{ a }", variables="{nope"), "'variables' in the query string must be a JSON object (URL-encoded)"),
    (qs(query="{ a }", extensions="[1"), "'extensions' in the query string must be a JSON object (URL-encoded)"),
    (b"query=%7Ba%7D&query=%7Bb%7D", "the query string has 'query' more than once"),
    (b"query=%FF", "the query string is not percent-encoded UTF-8"),
    (b"query=\xff", "the query string is not percent-encoded UTF-8"),
])
def test_malformed_query_strings_are_refused_naming_the_parameter(query_string: bytes, message: str) -> None:
    refusal = get_payload(query_string)
    assert isinstance(refusal, str)
    assert refusal.startswith(message)


@pytest.mark.parametrize(("params", "message"), [
    ({"variables": '"a string"'}, "'variables' must be a JSON object"),
    ({"variables": "[1]"}, "'variables' must be a JSON object"),
    ({"extensions": "0"}, "'extensions' must be a JSON object"),
    ({"extensions": '["array"]'}, "'extensions' must be a JSON object"),
])
def test_json_that_is_not_an_object_is_refused_by_the_shared_check(params: dict[str, str], message: str) -> None:
    payload = get_payload(qs(query="{ __typename }", **params))
    assert operation_request(payload, "the query string") == message


def test_a_missing_query_is_refused_as_a_post_body_would_be() -> None:
    assert operation_request(get_payload(b""), "the query string") == "the query string has no 'query' string"
