"""The ``DateTime`` scalar: RFC 3339 in, UTC with ``Z`` out.

A value without an offset parses to a naive datetime on purpose: the domain refuses it
with VALIDATION_FAILED naming the input field, which tells a client more than a
GraphQL coercion error would. Likewise an instant outside the supported range, even one
that has no UTC equivalent at all (``0001-01-01T00:00:00+01:00``): parsing never converts to
UTC, so it cannot overflow, and the domain refuses the value naming the field. Anything that
is not RFC 3339 at all is a malformed request and fails coercion.
"""

from __future__ import annotations

import re
from datetime import datetime

import strawberry

from booking_gateway.domain.time_window import EARLIEST_INSTANT, LATEST_INSTANT, format_instant

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?$"
)


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError(
            f"DateTime must be RFC 3339 with an offset, e.g. 2026-12-01T09:00:00Z; got {value!r}"
        )
    text = value.upper().replace(" ", "T")
    if "." in text:  # Python keeps microseconds: drop finer digits rather than refuse them
        head, _, tail = text.partition(".")
        digits = re.match(r"\d+", tail)
        assert digits is not None
        text = f"{head}.{digits.group()[:6].ljust(6, '0')}{tail[digits.end():]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError as err:
        raise ValueError(f"DateTime {value!r} is not a valid date and time: {err}") from None


#: the domain's own formatting, called directly: it runs for every instant of every answer
serialize_datetime = format_instant


DATETIME = strawberry.scalar(
    name="DateTime",
    description=("RFC 3339 date-time with an explicit offset; returned in UTC with a Z suffix. Accepted from "
                 f"{format_instant(EARLIEST_INSTANT)} until before {format_instant(LATEST_INSTANT)}; "
                 "an instant outside that range is VALIDATION_FAILED naming the field."),
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)
