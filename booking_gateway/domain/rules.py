"""The business rules every request is checked against before anything is written."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from booking_gateway.domain.errors import ValidationFailed
from booking_gateway.domain.time_window import TimeWindow

MAX_NAME_LENGTH = 200
MAX_CLIENT_MUTATION_ID_LENGTH = 200
MAX_REFERENCE_LENGTH = 500
MAX_NOTE_LENGTH = 4000


@dataclass(frozen=True, slots=True)
class Limits:
    """Operator-tunable bounds (settings ``BOOKING_MAX_BOOKING_DAYS`` and friends)."""

    max_booking: timedelta = timedelta(days=31)
    max_availability_window: timedelta = timedelta(days=366)
    max_resources_per_query: int = 100
    max_page_size: int = 100


def check_booking_window(window: TimeWindow, limits: Limits, field: str = "end") -> None:
    if window.duration > limits.max_booking:
        raise ValidationFailed(
            field,
            f"the booking lasts {_days(window.duration)}, longer than the maximum of "
            f"{_days(limits.max_booking)}",
        )


def check_availability_window(window: TimeWindow, limits: Limits, field: str = "window") -> None:
    if window.duration > limits.max_availability_window:
        raise ValidationFailed(
            field,
            f"the window spans {_days(window.duration)}, longer than the maximum of "
            f"{_days(limits.max_availability_window)}",
        )


def check_text(field: str, value: str | None, max_length: int, *, required: bool = False) -> None:
    if value is None:
        if required:
            raise ValidationFailed(field, f"{field} is required")
        return
    if required and not value.strip():
        raise ValidationFailed(field, f"{field} must not be blank")
    if len(value) > max_length:
        raise ValidationFailed(field, f"{field} is {len(value)} characters long; the maximum is {max_length}")
    if "\x00" in value:
        raise ValidationFailed(field, f"{field} must not contain NUL characters")
    if not value.isascii() and _has_surrogate(value):
        raise ValidationFailed(field, f"{field} is not valid Unicode text (it contains a lone surrogate)")


def _has_surrogate(value: str) -> bool:
    """A lone UTF-16 surrogate (JSON ``"\\ud800"`` decodes to one) cannot be stored as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_client_mutation_id(value: str) -> None:
    check_text("clientMutationId", value, MAX_CLIENT_MUTATION_ID_LENGTH, required=True)


def check_time_zone(value: str, field: str = "timeZone") -> None:
    if not _known_time_zone(value):
        raise ValidationFailed(field, f"{value!r} is not an IANA time zone (e.g. Europe/Berlin, UTC)")


def check_page_size(first: int | None, limits: Limits, field: str = "first") -> int:
    if first is None:
        return limits.max_page_size
    if first < 0 or first > limits.max_page_size:
        raise ValidationFailed(field, f"{field} must be between 0 and {limits.max_page_size}")
    return first


def _known_time_zone(name: str) -> bool:
    return name in _time_zones()


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    """IANA zone names, without the host-dependent aliases (``localtime`` is whatever the
    server's /etc/localtime says) and the ``posix/`` and ``right/`` duplicate trees, so that a
    resource means the same zone on every gateway process."""
    return frozenset(
        zone for zone in zoneinfo.available_timezones()
        if zone not in {"localtime", "posixrules", "Factory"} and not zone.startswith(("posix/", "right/"))
    )


def _days(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    return f"{days:g} days" if days >= 1 else f"{span.total_seconds() / 3600:g} hours"
