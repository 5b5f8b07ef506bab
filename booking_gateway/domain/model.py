"""The entities: tenants own resources; resources carry bookings and an availability version."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from booking_gateway.domain.free_busy import busy_within, complement
from booking_gateway.domain.time_window import TimeWindow


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    #: a hold: blocks its window until ``expires_at`` (the database's clock), then EXPIRED
    HELD = "held"
    EXPIRED = "expired"
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class Resource:
    id: UUID
    tenant_id: UUID
    name: str
    time_zone: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Booking:
    id: UUID
    tenant_id: UUID
    resource_id: UUID
    window: TimeWindow
    status: BookingStatus
    version: int
    reference: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime
    #: a hold's end (also kept once it was confirmed, released or expired); None for a booking
    expires_at: datetime | None = None

    @property
    def confirmed(self) -> bool:
        return self.status is BookingStatus.CONFIRMED

    @property
    def held(self) -> bool:
        """A live hold (the store reports an expired one as EXPIRED)."""
        return self.status is BookingStatus.HELD

    def with_status(self, status: BookingStatus, at: datetime) -> Booking:
        return replace(self, status=status, version=self.version + 1, updated_at=at)

    def cancelled(self, at: datetime) -> Booking:
        return replace(self, status=BookingStatus.CANCELLED, version=self.version + 1,
                       updated_at=at)

    def moved_to(self, window: TimeWindow, at: datetime) -> Booking:
        return replace(self, window=window, version=self.version + 1, updated_at=at)


@dataclass(frozen=True, slots=True)
class Availability:
    """Free/busy of one resource inside a window, read atomically with its version."""

    resource_id: UUID
    window: TimeWindow
    busy: tuple[TimeWindow, ...]
    free: tuple[TimeWindow, ...]
    version: int

    @classmethod
    def from_bookings(cls, resource_id: UUID, window: TimeWindow,
                      booked: list[TimeWindow], version: int) -> Availability:
        busy = busy_within(booked, window)
        return cls(resource_id, window, tuple(busy), tuple(complement(busy, window)), version)
