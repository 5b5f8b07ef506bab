"""How long a hold may last (settings ``BOOKING_MAX_HOLD_SECONDS``, ``BOOKING_DEFAULT_HOLD_SECONDS``)."""

from __future__ import annotations

from dataclasses import dataclass

from booking_gateway.domain.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class HoldLimits:
    max_seconds: int = 900
    default_seconds: int = 300


def hold_seconds(ttl_seconds: int | None, limits: HoldLimits) -> int:
    """The hold's length: ``ttlSeconds`` if given and allowed, else the default."""
    if ttl_seconds is None:
        return min(limits.default_seconds, limits.max_seconds)
    if not 1 <= ttl_seconds <= limits.max_seconds:
        raise ValidationFailed("ttlSeconds", f"ttlSeconds must be between 1 and "
                               f"{limits.max_seconds} (BOOKING_MAX_HOLD_SECONDS); got {ttl_seconds}")
    return ttl_seconds
