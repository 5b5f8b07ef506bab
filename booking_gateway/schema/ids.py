"""Relay global IDs: ``base64("Type:uuid")``, opaque to clients, checked strictly here."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from uuid import UUID

from booking_gateway.domain.errors import ValidationFailed


def to_global_id(type_name: str, object_id: UUID) -> str:
    return base64.b64encode(f"{type_name}:{object_id}".encode()).decode()


def availability_id(resource_id: UUID, start: datetime, end: datetime) -> str:
    """``base64("Availability:uuid:start/end")``: the same resource and window, the same id, so a
    client's normalized cache (Apollo's ``Availability:<id>``) updates one entry on every read."""
    return base64.b64encode(f"Availability:{resource_id}:{start.isoformat()}/{end.isoformat()}".encode()).decode()


def parse_global_id(value: str, field: str) -> tuple[str, UUID]:
    """(type name, uuid); a malformed id is VALIDATION_FAILED naming ``field``."""
    try:
        type_name, _, raw = base64.b64decode(value.encode(), validate=True).decode().partition(":")
        return type_name, UUID(raw)
    except (binascii.Error, UnicodeError, ValueError):
        raise ValidationFailed(field, f"{field} is not an id this API issued: {value[:60]!r}") from None


def expect_id(value: str, type_name: str, field: str) -> UUID | None:
    """The uuid if ``value`` is a well-formed id of ``type_name``; None for another type
    (which callers report as NOT_FOUND: no such object)."""
    found_type, object_id = parse_global_id(value, field)
    return object_id if found_type == type_name else None
