"""GET /graphql: the operation in the query string, turned into the shape of a POST body.

GraphQL over HTTP puts ``query`` and ``operationName`` in the query string as they are, and
``variables`` and ``extensions`` as JSON text. Once parsed here, a GET request takes the same
path as a POST body (:func:`~booking_gateway.web.admission.operation_request`, then admission),
so no limit, cache or check exists twice. Only queries run over GET (see
:mod:`~booking_gateway.web.http_answers`): a GET must not change anything.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson

#: The parameters read; any other is ignored, as the spec allows.
_PARAMETERS = ("query", "operationName", "variables", "extensions")
_JSON_PARAMETERS = ("variables", "extensions")


def get_payload(query_string: bytes) -> dict[str, object] | str:
    """The operation as a POST body would carry it, or what is wrong with the query string."""
    try:
        pairs = parse_qsl(query_string.decode("utf-8"), keep_blank_values=True, encoding="utf-8",
                          errors="strict")
    except UnicodeDecodeError:
        return "the query string is not percent-encoded UTF-8"
    payload: dict[str, object] = {}
    for name, value in pairs:
        if name not in _PARAMETERS:
            continue
        if name in payload:
            return f"the query string has '{name}' more than once"
        payload[name] = value
    for name in _JSON_PARAMETERS:
        text = payload.get(name)
        if not isinstance(text, str):
            continue
        if not text:  # variables= (empty): none given
            payload[name] = None
            continue
        try:
            payload[name] = orjson.loads(text)
        except orjson.JSONDecodeError as err:
            return f"'{name}' in the query string must be a JSON object (URL-encoded): {err}"
    if payload.get("operationName") == "":
        payload["operationName"] = None
    return payload
