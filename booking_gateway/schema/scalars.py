"""The ``DateTime`` scalar: RFC 3339 in, UTC with ``Z`` and six fraction digits out.

A value without an offset parses to a naive datetime on purpose: the domain refuses it
with VALIDATION_FAILED naming the input field, which tells a client more than a
GraphQL coercion error would. Likewise an instant outside the supported range, even one
that has no UTC equivalent at all (``0001-01-01T00:00:00+01:00``): parsing never converts to
UTC, so it cannot overflow, and the domain refuses the value naming the field. Anything that
is not RFC 3339 at all is a malformed request and fails coercion with :data:`RULE` (graphql-core
prefixes the variable or argument and the input path), never Python's own words for what broke.

Output has one fixed length (:func:`~booking_gateway.domain.time_window.format_instant_fixed`), so
instants returned by the API compare and key caches as plain strings.
"""

from __future__ import annotations

import re
from datetime import datetime

import strawberry

from booking_gateway.domain.time_window import EARLIEST_INSTANT, LATEST_INSTANT, format_instant, format_instant_fixed

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?$"
)


#: What a DateTime input must be, said in every coercion error.
RULE = (f"a DateTime is RFC 3339 with an offset (Z or +hh:mm, hh below 24), e.g. 2026-12-01T09:00:00Z, "
        f"a real calendar date and time, from {format_instant(EARLIEST_INSTANT)} until before "
        f"{format_instant(LATEST_INSTANT)}")

_JSON_KINDS = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", list: "a list",
               dict: "an object"}

#: Longer inputs are cut in the error that echoes them.
_ECHO = 40


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError(f"{RULE}; got {_echo(value)}")
    text = value.upper().replace(" ", "T")
    if "." in text:  # Python keeps microseconds: drop finer digits rather than refuse them
        head, _, tail = text.partition(".")
        digits = re.match(r"\d+", tail)
        assert digits is not None
        text = f"{head}.{digits.group()[:6].ljust(6, '0')}{tail[digits.end():]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # day 31 of a 30-day month, hour 24, offset +25:00 ...
        raise ValueError(f"{RULE}; got {_echo(value)}, which is not a valid date, time or offset") from None


def _echo(value: object) -> str:
    if not isinstance(value, str):
        return f"{_JSON_KINDS.get(type(value), 'a value')}, not a string"
    return f'"{value[:_ECHO]}..."' if len(value) > _ECHO else f'"{value}"'


#: the domain's own formatting, called directly: it runs for every instant of every answer
serialize_datetime = format_instant_fixed


DATETIME = strawberry.scalar(
    name="DateTime",
    description=("RFC 3339 date-time with an explicit offset; returned in UTC with a Z suffix and always six "
                 "fraction digits (e.g. 2026-12-01T09:00:00.000000Z), so returned values compare as strings. "
                 "Accepted from "
                 f"{format_instant(EARLIEST_INSTANT)} until before {format_instant(LATEST_INSTANT)}; "
                 "an instant outside that range is VALIDATION_FAILED naming the field."),
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)
