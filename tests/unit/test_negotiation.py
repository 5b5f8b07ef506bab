"""Accept negotiation: which of the two GraphQL media types an answer is sent as, or 406."""

from __future__ import annotations

import pytest

from booking_gateway.web.negotiation import MediaType, negotiate

GQL, JSON = MediaType.GRAPHQL_RESPONSE, MediaType.JSON


@pytest.mark.parametrize(("accept", "chosen"), [
    (None, JSON),
    (b"", JSON),
    (b"  ", JSON),
    (b"application/json", JSON),
    (b"application/json; charset=utf-8", JSON),
    (b"application/graphql-response+json", GQL),
    (b"Application/GraphQL-Response+JSON", GQL),
    (b"*/*", JSON),
    (b"application/*", JSON),
    # the spec's recommended client header
    (b"application/graphql-response+json, application/json;q=0.9", GQL),
    (b"application/json, application/graphql-response+json;q=0.9", JSON),
    # both named with the same q: the spec's preference
    (b"application/json, application/graphql-response+json", GQL),
    # named beats a wildcard at the same q
    (b"*/*, application/graphql-response+json", GQL),
    (b"text/html, application/json;q=0.8, */*;q=0.1", JSON),
    (b"application/graphql-response+json;q=0.2, */*;q=0.5", JSON),
    (b"text/plain, application/*;q=0.3", JSON),
])
def test_the_preferred_acceptable_type_is_chosen(accept: bytes | None, chosen: MediaType) -> None:
    assert negotiate(accept) is chosen


@pytest.mark.parametrize("accept", [
    b"text/plain",
    b"text/html, image/png",
    b"application/xml",
    b"application/json;q=0",
    b"application/json;q=0, application/graphql-response+json;q=0",
    b"*/*;q=0",
    b"application/json;q=nonsense",
])
def test_a_header_that_allows_neither_type_is_refused(accept: bytes) -> None:
    assert negotiate(accept) is None


def test_the_content_type_header_names_the_type() -> None:
    assert GQL.header == b"application/graphql-response+json"
    assert JSON.header == b"application/json"
