"""The fuzzed world: two tenants with resources and bookings, and a cheap snapshot of their rows.

Tenant A is the caller of every fuzzed mutation; tenant B is another tenant whose ids are
thrown at A's mutations. A snapshot is one query that sums up both tenants' rows, so a test can
compare before and after every example and spot any write it did not expect.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from strawberry.extensions import ParserCache, ValidationCache

from booking_gateway.domain.outcome import Deps
from booking_gateway.domain.time_window import format_instant
from booking_gateway.resolvers.context import Context
from booking_gateway.schema.build import build_schema
from booking_gateway.schema.ids import to_global_id
from tests.integration.graphql_client import BOOK, CANCEL, CREATE_RESOURCE

#: The real schema; the caches only spare re-parsing and re-validating the same four documents
#: thousands of times (validation is most of the CPU time of an example without them).
SCHEMA = build_schema(extensions=[ParserCache, ValidationCache])

#: Top-up bookings go far from every fuzzed window (2030), one day each.
BASE_OF_TOP_UPS = datetime(2040, 1, 1, tzinfo=UTC)

# Bookings are counted through their resources (the table has no index on tenant_id).
SNAPSHOT = """
SELECT t.id, r.n AS resources, r.versions AS availability_versions,
       b.n AS bookings, b.confirmed, b.versions AS booking_versions, i.n AS records
FROM unnest($1::uuid[]) AS t(id)
CROSS JOIN LATERAL (
    SELECT count(*) AS n, coalesce(sum(availability_version), 0) AS versions
    FROM resources WHERE tenant_id = t.id) AS r
CROSS JOIN LATERAL (
    SELECT count(*) AS n, count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
           coalesce(sum(version), 0) AS versions
    FROM bookings WHERE resource_id IN (SELECT id FROM resources WHERE tenant_id = t.id)) AS b
CROSS JOIN LATERAL (SELECT count(*) AS n FROM idempotency_records WHERE tenant_id = t.id) AS i
ORDER BY t.id
"""


@dataclass(frozen=True)
class Rows:
    """What one tenant has in the database, summed up."""

    resources: int
    availability_versions: int
    bookings: int
    confirmed: int
    booking_versions: int
    records: int

    def minus(self, other: Rows) -> dict[str, int]:
        """The non-zero differences, field by field."""
        diff = {name: getattr(self, name) - getattr(other, name) for name in self.__dataclass_fields__}
        return {name: delta for name, delta in diff.items() if delta}


@dataclass
class TenantData:
    tenant_id: UUID
    resources: list[str] = field(default_factory=list)
    bookings: list[str] = field(default_factory=list)
    #: The confirmed ones among ``bookings`` (what cancel and reschedule can act on).
    confirmed: list[str] = field(default_factory=list)

    def learn(self, mutation: str, obj: dict[str, Any]) -> None:
        """Keep the id pools current after a success, so later examples aim at new objects too."""
        if mutation == "createResource":
            self.resources.append(obj["id"])
        elif mutation == "bookSlot":
            self.bookings.append(obj["id"])
            self.confirmed.append(obj["id"])
        elif mutation == "cancelBooking" and obj["id"] in self.confirmed:
            self.confirmed.remove(obj["id"])


@dataclass
class World:
    deps: Deps
    conn: asyncpg.Connection
    a: TenantData
    b: TenantData
    #: The snapshot after the last example that passed; None forces a fresh one.
    last: dict[UUID, Rows] | None = None
    _topped_up: int = 0

    async def snapshot(self) -> dict[UUID, Rows]:
        rows = await self.conn.fetch(SNAPSHOT, [self.a.tenant_id, self.b.tenant_id])
        return {row["id"]: Rows(*(int(row[k]) for k in list(row.keys())[1:])) for row in rows}

    async def execute(self, tenant: TenantData, query: str, variables: dict[str, Any]) -> Any:
        return await SCHEMA.execute(query, variable_values=variables,
                                    context_value=Context(tenant.tenant_id, self.deps))

    async def keep_confirmed_bookings(self, at_least: int = 3) -> None:
        """Book a few more for A when fuzzed cancels used them up, so reschedules can succeed."""
        while len(self.a.confirmed) < at_least:
            self.last = None  # rows change: the next example takes a fresh snapshot
            self._topped_up += 1
            day = BASE_OF_TOP_UPS + timedelta(days=self._topped_up)
            result = await self.execute(self.a, BOOK, {"input": {
                "clientMutationId": f"top-up-{self._topped_up}", "resourceId": self.a.resources[0],
                "start": format_instant(day), "end": format_instant(day + timedelta(hours=1))}})
            assert not result.errors, result.errors
            assert result.data["bookSlot"]["error"] is None, result.data
            self.a.learn("bookSlot", result.data["bookSlot"]["booking"])


async def populate(world: World, tenant: TenantData, tag: str) -> None:
    """Three resources, bookings on them, one of them cancelled: every kind of id to aim at."""
    for index, zone in enumerate(["UTC", "Europe/Berlin", "Pacific/Kiritimati"]):
        result = await world.execute(tenant, CREATE_RESOURCE, {"input": {
            "clientMutationId": f"seed-{tag}-r{index}", "name": f"{tag} room {index}", "timeZone": zone}})
        assert not result.errors, result.errors
        tenant.resources.append(result.data["createResource"]["resource"]["id"])
    for index, resource in enumerate(tenant.resources):
        day = f"2030-01-0{index + 1}"
        for hour in (9, 11):
            result = await world.execute(tenant, BOOK, {"input": {
                "clientMutationId": f"seed-{tag}-b{index}-{hour}", "resourceId": resource,
                "start": f"{day}T{hour:02}:00:00Z", "end": f"{day}T{hour + 1:02}:00:00Z"}})
            assert not result.errors, result.errors
            assert result.data["bookSlot"]["error"] is None, result
            tenant.learn("bookSlot", result.data["bookSlot"]["booking"])
    result = await world.execute(tenant, CANCEL, {"input": {
        "clientMutationId": f"seed-{tag}-cancel", "bookingId": tenant.bookings[-1]}})
    assert result.data["cancelBooking"]["error"] is None, result
    tenant.learn("cancelBooking", result.data["cancelBooking"]["booking"])


def raw_id(global_id: str) -> UUID:
    return UUID(base64.b64decode(global_id).decode().partition(":")[2])


def as_type(global_id: str, type_name: str) -> str:
    """The same object's uuid under another type name (a Booking id for a Resource, say)."""
    return to_global_id(type_name, raw_id(global_id))
