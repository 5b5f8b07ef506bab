"""The run's own database on the configured server: created, migrated, audited, dropped.

Its connections carry ``application_name = booking-torture``, so the pg-terminate fault, which
ends every backend named ``booking-gateway`` on this database, never cuts the tool's own.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import asyncpg

from booking_gateway.infra.postgres import scratch
from booking_gateway.infra.postgres.blocking import EFFECTIVE_STATUS
from booking_gateway.torture.model import BookingState, Span

APPLICATION_NAME = "booking-torture"
GATEWAY_APPLICATION_NAME = "booking-gateway"
PREFIX = "bg_torture"

_FINAL_STATE = f"""
SELECT id, resource_id, lower(during) AS start, upper(during) AS end_,
       {EFFECTIVE_STATUS} AS status, version
FROM bookings WHERE tenant_id = $1 ORDER BY resource_id, lower(during), id
"""

# The holds counter-proof: a hold is stored with expires_at = now(), so the blocking predicate
# (expires_at > now()) never counts it and the next writer ends it before its insert: holds
# answer HELD with their ttlSeconds but block nothing.
_WEAKEN_HOLDS = """
CREATE FUNCTION torture_weak_holds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'held' THEN NEW.expires_at := now(); END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER torture_weak_holds BEFORE INSERT ON bookings
    FOR EACH ROW EXECUTE FUNCTION torture_weak_holds();
"""


class ScratchDatabase:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = ""
        self.url = ""
        self.created = False

    async def _connect(self, url: str) -> Any:
        return await asyncpg.connect(url, server_settings={"application_name": APPLICATION_NAME})

    async def _execute(self, url: str, sql: str, *args: Any) -> Any:
        conn = await self._connect(url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def create(self) -> None:
        self.name = await scratch.create_database(self.admin_url, PREFIX, APPLICATION_NAME)
        self.url = scratch.database_url(self.admin_url, self.name)
        self.created = True

    async def migrate(self) -> None:
        from booking_gateway.infra.postgres.migrate import migrate

        await asyncio.to_thread(migrate, self.url)

    async def weaken(self) -> None:
        """The counter-proof's database: without the exclusion constraint that keeps the promise."""
        await self._execute(self.url, "ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap")

    async def weaken_holds(self) -> None:
        """The holds counter-proof's database: every hold is stored already expired."""
        conn = await self._connect(self.url)
        try:
            await conn.execute(_WEAKEN_HOLDS)
        finally:
            await conn.close()

    async def drop(self) -> None:
        if self.created:
            await scratch.drop_database(self.admin_url, self.name, APPLICATION_NAME)
            self.created = False

    async def create_tenant(self, name: str) -> tuple[UUID, str]:
        from booking_gateway.infra.postgres.engine import create_engine
        from booking_gateway.infra.tenancy_admin import create_tenant

        engine = create_engine(self.url, pool_size=1, max_overflow=0, application_name=APPLICATION_NAME)
        try:
            tenant, key = await create_tenant(engine, name)
        finally:
            await engine.dispose()
        return tenant.id, key

    async def terminate_gateway_backends(self) -> int:
        """End every connection of the gateways to this database; how many there were."""
        rows = await self._execute(
            self.admin_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 "
            "AND application_name = $2", self.name, GATEWAY_APPLICATION_NAME)
        return sum(1 for r in rows if r[0])

    async def gateway_backends(self) -> int:
        rows = await self._execute(
            self.admin_url, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
            "AND application_name = $2", self.name, GATEWAY_APPLICATION_NAME)
        return int(rows[0][0])

    async def final_state(self, tenant_id: UUID) -> list[BookingState]:
        rows = await self._execute(self.url, _FINAL_STATE, tenant_id)
        return [BookingState(str(r["id"]), str(r["resource_id"]), Span(r["start"], r["end_"]),
                             str(r["status"]).upper(), int(r["version"])) for r in rows]

    async def reconcile_overlaps(self) -> int:
        """What ``booking-gateway reconcile`` would count on this database."""
        from booking_gateway.infra.postgres.engine import create_engine
        from booking_gateway.infra.postgres.reconcile import find_overlaps

        engine = create_engine(self.url, pool_size=1, max_overflow=0, application_name=APPLICATION_NAME)
        try:
            return len(await find_overlaps(engine))
        finally:
            await engine.dispose()
