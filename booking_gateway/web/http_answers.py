"""What status and headers a GraphQL answer over HTTP gets, by the GraphQL-over-HTTP spec.

With ``application/graphql-response+json`` the status tells a request error (the document did
not parse or validate, a limit refused it, a variable did not coerce: nothing ran) from a result:
400 and no ``data`` entry. With ``application/json`` a well-formed GraphQL answer is 200,
whatever it holds, as clients written before that media type expect. Only queries run over
GET (405 otherwise, ``Allow: POST``); GET answers are per tenant and authenticated, so no
shared cache may keep them and none may reuse one for another key or media type.
"""

from __future__ import annotations

from graphql import ExecutionResult, OperationType

from booking_gateway.web.errors import error_body
from booking_gateway.web.negotiation import MediaType

GET_HEADERS = [(b"cache-control", b"private, no-store"), (b"vary", b"Authorization, Accept")]
ALLOW_POST = (b"allow", b"POST")
ALLOW_BOTH = (b"allow", b"GET, POST")


def request_error_status(media: MediaType) -> int:
    """The status of an answer to an operation that was refused before it ran."""
    return 400 if media is MediaType.GRAPHQL_RESPONSE else 200


def not_executed(result: ExecutionResult) -> bool:
    """Whether execution stopped before running anything (a variable did not coerce): such
    errors have no path, field errors always have one."""
    errors = result.errors
    return result.data is None and bool(errors) and all(e.path is None for e in errors or ())


def refused_over_get(kind: OperationType) -> bytes | None:
    """The body of the 405 for a mutation or subscription sent as GET, else None (see
    :func:`get_headers` for its ``Allow``)."""
    if kind is OperationType.QUERY:
        return None
    what = "mutations" if kind is OperationType.MUTATION else "subscriptions"
    where = "POST" if kind is OperationType.MUTATION else "a WebSocket at /graphql"
    return error_body(405, f"{what} are not served over GET (a GET must not change anything): send it with {where}")


def get_headers(status: int, extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers of an answer to a GET: no shared caching, and ``Allow: POST`` on a 405."""
    allow = [ALLOW_POST] if status == 405 and not any(name == b"allow" for name, _ in extra) else []
    return [*extra, *GET_HEADERS, *allow]
