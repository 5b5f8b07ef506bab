"""What clients see of errors: expected ones as they are, unexpected ones masked.

An unexpected exception becomes "internal error" with the request id; the full exception
(traceback, SQL, driver) goes to the log under that id, never to the client.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from graphql import GraphQLError

from booking_gateway.domain.errors import DomainError

log = logging.getLogger("booking_gateway.errors")

_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
          408: "REQUEST_TIMEOUT", 413: "REQUEST_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 429: "RATE_LIMITED",
          500: "INTERNAL", 504: "TIMEOUT"}


def is_expected(error: GraphQLError) -> bool:
    """Errors the gateway raised on purpose, or graphql-core's own (syntax, validation, coercion)."""
    original = error.original_error
    return original is None or isinstance(original, (GraphQLError, DomainError))


#: Longer messages are cut: graphql-core's coercion errors echo the whole input value.
MAX_MESSAGE = 500


#: graphql-core's suggestions (" Did you mean 'name'?", "... the enum value 'CONFIRMED'?"): names
#: of the schema, which a client without introspection must not learn from its typos.
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


def masked(error: GraphQLError, request_id: str, *, suggestions: bool = True) -> dict[str, Any]:
    """The error as the client sees it; without "Did you mean ...?" unless ``suggestions``
    (False where introspection is off)."""
    if is_expected(error):
        formatted = dict(error.formatted)
        message = error.message if suggestions else without_suggestions(error.message)
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "... (cut)"
        formatted["message"] = message
        return formatted
    log.error("request %s: unexpected error at %s", request_id, ".".join(map(str, error.path or ())),
              exc_info=error.original_error)
    body: dict[str, Any] = {"message": f"internal error; quote request id {request_id} to the operator",
                            "extensions": {"code": "INTERNAL", "requestId": request_id}}
    if error.path:
        body["path"] = error.path
    if error.locations:
        body["locations"] = [loc.formatted for loc in error.locations]
    return body


def error_body(status: int, message: str, request_id: str | None = None) -> bytes:
    """A refusal before execution, in the GraphQL response shape clients already parse."""
    extensions: dict[str, Any] = {"code": _CODES.get(status, "ERROR")}
    if request_id:
        extensions["requestId"] = request_id
    return orjson.dumps({"errors": [{"message": message, "extensions": extensions}]})


def internal_error_body(request_id: str, error: BaseException) -> bytes:
    """An unexpected exception outside execution (authentication, rate limit, the edge itself),
    masked like one inside it: the client gets the request id, the log the whole exception."""
    log.error("request %s: unexpected error", request_id, exc_info=error)
    return error_body(500, f"internal error; quote request id {request_id} to the operator", request_id)
