"""What clients see of errors: expected ones as they are, unexpected ones masked.

An unexpected exception becomes "internal error" with the request id; the full exception
(traceback, SQL, driver) goes to the log under that id, never to the client.

Every error a client sees has ``extensions.code``, so clients branch on codes, not on wording:
documents.py codes parse, validation and limit refusals; an error raised before execution
without one is a variable-coercion failure (``BAD_USER_INPUT``); masked ones are
``INTERNAL_SERVER_ERROR``.
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
          406: "NOT_ACCEPTABLE", 408: "REQUEST_TIMEOUT", 413: "REQUEST_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
          429: "RATE_LIMITED",
          500: "INTERNAL_SERVER_ERROR", 504: "TIMEOUT"}


def is_expected(error: GraphQLError) -> bool:
    """Errors the gateway raised on purpose, or graphql-core's own (syntax, validation, coercion)."""
    original = error.original_error
    return original is None or isinstance(original, (GraphQLError, DomainError))


#: The code of every masked (unexpected) error.
INTERNAL_CODE = "INTERNAL_SERVER_ERROR"
#: The code of request errors graphql-core raises while coercing variables (no path: nothing ran).
BAD_USER_INPUT = "BAD_USER_INPUT"


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
        if "code" not in (error.extensions or {}):
            formatted["extensions"] = {**(error.extensions or {}), "code": _code_of(error)}
        return formatted
    log.error("request %s: unexpected error at %s", request_id, ".".join(map(str, error.path or ())),
              exc_info=error.original_error)
    body: dict[str, Any] = {"message": f"internal error; quote request id {request_id} to the operator",
                            "extensions": {"code": INTERNAL_CODE, "requestId": request_id}}
    if error.path:
        body["path"] = error.path
    if error.locations:
        body["locations"] = [loc.formatted for loc in error.locations]
    return body


def _code_of(error: GraphQLError) -> str:
    """The code of an expected error that came without one."""
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code.value
    # before execution (variable coercion) there is no path; with one, graphql-core refused a value
    # the resolvers returned (a null for a non-null field): the server's fault, not the client's
    return BAD_USER_INPUT if error.path is None else INTERNAL_CODE


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
