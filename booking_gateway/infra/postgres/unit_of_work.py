"""The unit of work for cancel and reschedule: one transaction that rolls back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.transaction import Transaction

from booking_gateway.domain.idempotency import IdempotencyKey, StoredOutcome
from booking_gateway.domain.model import Booking
from booking_gateway.domain.ports import OverlapViolation, RulesRecord, StoreContention
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.postgres import queries, rules_sql
from booking_gateway.infra.postgres.blocking import end_expired
from booking_gateway.infra.postgres.rows import (
    BOOKING_COLUMNS,
    DEADLOCK_DETECTED,
    EXCLUSION_VIOLATION,
    SERIALIZATION_FAILURE,
    booking_from,
    outcome_from,
    sqlstate,
    windows_from,
)
from booking_gateway.infra.postgres.sql import SQL

_FOR_UPDATE = SQL(
    f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = :id AND tenant_id = :tenant FOR UPDATE")
_UPDATE = SQL("""
UPDATE bookings SET during = tstzrange(:start, :end, '[)'), status = :status, version = :version,
                    updated_at = :updated_at,
                    blocked = CASE WHEN CAST(:bstart AS timestamptz) IS NULL THEN blocked
                                   ELSE tstzrange(:bstart, :bend, '[)') END
WHERE id = :id
""")
_LOCK_RESOURCE = SQL("SELECT 1 FROM resources WHERE id = :resource FOR UPDATE")
_END_EXPIRED = SQL(f"WITH ended AS ({end_expired()}) SELECT count(*) AS n FROM ended")
_BUMP = SQL("""
UPDATE resources SET availability_version = availability_version + 1 WHERE id = :id
RETURNING availability_version
""")


class PostgresUnitOfWork:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._tx: Transaction | None = None
        self._committed = False

    async def __aenter__(self) -> PostgresUnitOfWork:
        self._tx = self._conn.transaction()
        await self._tx.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._tx is not None and not self._committed:
            await self._tx.rollback()

    async def commit(self) -> None:
        assert self._tx is not None, "commit() outside 'async with'"
        await self._tx.commit()
        self._committed = True

    async def _fetchrow(self, statement: SQL, params: dict[str, Any]) -> Any:
        """One row (or None); a deadlock or serialization failure becomes :class:`StoreContention`."""
        try:
            return await self._conn.fetchrow(statement.text, *statement.args(params))
        except asyncpg.PostgresError as err:
            if sqlstate(err) in (DEADLOCK_DETECTED, SERIALIZATION_FAILURE):
                raise StoreContention(f"transaction aborted by PostgreSQL ({sqlstate(err)})") from err
            raise

    async def booking_for_update(self, tenant_id: UUID, booking_id: UUID) -> Booking | None:
        row = await self._fetchrow(_FOR_UPDATE, {"id": booking_id, "tenant": tenant_id})
        return booking_from(row) if row else None

    async def find_outcome(self, key: IdempotencyKey) -> StoredOutcome | None:
        row = await self._fetchrow(queries.FIND_OUTCOME, _key(key))
        return outcome_from(row) if row else None

    async def overlapping(self, resource_id: UUID, window: TimeWindow,
                          excluding: UUID) -> tuple[TimeWindow, ...]:
        row = await self._fetchrow(queries.OVERLAPPING, {
            "resource": resource_id, "start": window.start, "end": window.end, "excluding": excluding})
        return tuple(windows_from(row["starts"], row["ends"]))

    async def lock_resource(self, resource_id: UUID) -> None:
        await self._fetchrow(_LOCK_RESOURCE, {"resource": resource_id})

    async def end_expired_holds(self, resource_id: UUID, window: TimeWindow) -> int:
        row = await self._fetchrow(_END_EXPIRED, {
            "resource": resource_id, "start": window.start, "end": window.end})
        return int(row["n"])

    async def rules_for_share(self, tenant_id: UUID, resource_id: UUID) -> RulesRecord | None:
        row = await self._fetchrow(rules_sql.RULES_FOR_SHARE, {"tenant": tenant_id, "resource": resource_id})
        return RulesRecord(row["time_zone"], row["rules_version"], row["rules"]) if row else None

    async def update_booking(self, booking: Booking, blocked: TimeWindow | None = None) -> None:
        try:
            await self._fetchrow(_UPDATE, {
                "id": booking.id, "start": booking.window.start, "end": booking.window.end,
                "status": booking.status.value, "version": booking.version,
                "updated_at": booking.updated_at,
                "bstart": blocked.start if blocked else None, "bend": blocked.end if blocked else None})
        except asyncpg.PostgresError as err:
            if sqlstate(err) == EXCLUSION_VIOLATION:
                raise OverlapViolation(f"booking {booking.id} overlaps a confirmed booking") from err
            raise

    async def bump_availability_version(self, resource_id: UUID) -> int:
        return int((await self._fetchrow(_BUMP, {"id": resource_id}))["availability_version"])

    async def store_outcome(self, key: IdempotencyKey, outcome: StoredOutcome) -> bool:
        row = await self._fetchrow(queries.RECORD_OUTCOME, {
            **_key(key), "hash": outcome.request_hash, "kind": outcome.kind.value,
            "object_id": outcome.object_id, "starts": [w.start for w in outcome.conflicts],
            "ends": [w.end for w in outcome.conflicts]})
        return bool(row["stored"])


def _key(key: IdempotencyKey) -> dict[str, object]:
    return {"tenant": key.tenant_id, "mutation": key.mutation.value, "cmid": key.client_mutation_id}
