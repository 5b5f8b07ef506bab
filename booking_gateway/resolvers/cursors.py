"""Opaque pagination cursors: base64 of the sort key, checked strictly on the way in."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from uuid import UUID

from booking_gateway.domain.errors import ValidationFailed
from booking_gateway.domain.time_window import check_instant


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode(cursor: str, field: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise ValidationFailed(field, f"{field} is not a cursor this API issued") from None


def resource_cursor(resource_id: UUID) -> str:
    return _encode(f"r:{resource_id}")


def parse_resource_cursor(cursor: str | None) -> UUID | None:
    if cursor is None:
        return None
    text = _decode(cursor, "after")
    try:
        kind, _, raw = text.partition(":")
        if kind != "r":
            raise ValueError(kind)
        return UUID(raw)
    except ValueError:
        raise ValidationFailed("after", "after is not a cursor of this list") from None


def booking_cursor(start: datetime, booking_id: UUID) -> str:
    return _encode(f"b:{start.isoformat()}|{booking_id}")


def parse_booking_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    if cursor is None:
        return None
    text = _decode(cursor, "after")
    try:
        kind, _, rest = text.partition(":")
        start, _, raw = rest.partition("|")
        if kind != "b":
            raise ValueError(kind)
        parsed = datetime.fromisoformat(start)
        if parsed.tzinfo is None:
            raise ValueError(start)
        booking_id = UUID(raw)
    except ValueError:
        raise ValidationFailed("after", "after is not a cursor of this list") from None
    # a forged cursor may carry any instant: the store would meet -infinity, or overflow
    return check_instant(parsed, "after"), booking_id
