"""The inputs of the use cases, already decoded from GraphQL (ids are UUIDs of the tenant's space)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class CreateResource:
    tenant_id: UUID
    client_mutation_id: str
    name: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class BookSlot:
    tenant_id: UUID
    client_mutation_id: str
    resource_id: UUID
    start: datetime
    end: datetime
    reference: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CancelBooking:
    tenant_id: UUID
    client_mutation_id: str
    booking_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class RescheduleBooking:
    tenant_id: UUID
    client_mutation_id: str
    booking_id: UUID
    start: datetime
    end: datetime
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class HoldSlot:
    tenant_id: UUID
    client_mutation_id: str
    resource_id: UUID
    start: datetime
    end: datetime
    #: None: the configured default
    ttl_seconds: int | None = None
    reference: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ConfirmBooking:
    tenant_id: UUID
    client_mutation_id: str
    booking_id: UUID
    expected_version: int


@dataclass(frozen=True, slots=True)
class ReleaseHold:
    tenant_id: UUID
    client_mutation_id: str
    booking_id: UUID
    expected_version: int | None = None
