"""``BookingStore`` on PostgreSQL: the booking path in two statements, reads in one each."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg

from booking_gateway.domain.idempotency import IdempotencyKey, OutcomeKind, StoredOutcome
from booking_gateway.domain.model import Booking, BookingStatus, Resource
from booking_gateway.domain.ports import (
    Booked,
    BookingFilter,
    BookingPage,
    NewBooking,
    Precheck,
    Rejected,
    Replayed,
    ResourceMissing,
    ResourcePage,
    RulesChanged,
    RulesRecord,
    RulesVersionMismatch,
    RulesWritten,
    SlotInputs,
    StoreContention,
    UnitOfWork,
)
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.postgres import booking_sql, queries, rules_sql
from booking_gateway.infra.postgres.database import CONNECTION_LOST, Database
from booking_gateway.infra.postgres.rows import (
    DEADLOCK_DETECTED,
    EXCLUSION_VIOLATION,
    SERIALIZATION_FAILURE,
    booking_from,
    outcome_from,
    resource_from,
    sqlstate,
    windows_from,
)
from booking_gateway.infra.postgres.sql import SQL
from booking_gateway.infra.postgres.unit_of_work import PostgresUnitOfWork

log = logging.getLogger(__name__)

#: How often commit_booking re-runs after the database refused without a visible overlap.
COMMIT_ATTEMPTS = 3
_TRANSIENT = {EXCLUSION_VIOLATION, DEADLOCK_DETECTED, SERIALIZATION_FAILURE}


class PostgresBookingStore:
    """Every method is one statement in autocommit, except the unit of work (a transaction)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def _one(self, statement: SQL, **params: Any) -> Any:
        return await self._db.fetchrow(statement, params)

    async def _all(self, statement: SQL, **params: Any) -> Sequence[Any]:
        return await self._db.fetch(statement, params)

    # --- the booking path ---------------------------------------------------------------------

    async def precheck_booking(self, key: IdempotencyKey, request_hash: bytes,
                               resource_id: UUID, window: TimeWindow, rules_version: int = 0) -> Precheck:
        row = await self._one(booking_sql.PRECHECK, **_key(key), hash=request_hash,
                              resource=resource_id, start=window.start, end=window.end,
                              rules_version=rules_version)
        return Precheck(
            prior=outcome_from(row) if row["kind"] is not None else None,
            resource_found=row["resource_found"],
            conflicts=tuple(windows_from(row["overlap_starts"], row["overlap_ends"])),
            rejection_recorded=row["rejection_recorded"],
            rules_version=row["rules_version"] or 0,
        )

    async def commit_booking(self, key: IdempotencyKey, request_hash: bytes,
                             booking: NewBooking) -> Booked | Rejected | Replayed | ResourceMissing:
        params = {**_key(key), "hash": request_hash, "resource": booking.resource_id,
                  "start": booking.window.start, "end": booking.window.end,
                  "bstart": booking.blocks.start, "bend": booking.blocks.end,
                  "rules_version": booking.rules_version, "id": booking.id,
                  "reference": booking.reference, "note": booking.note, "hold_s": booking.hold_seconds}
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                row = await self._one(booking_sql.COMMIT, **params)
            except asyncpg.PostgresError as err:
                if sqlstate(err) not in _TRANSIENT:
                    raise
                # Another writer won an overlapping window between our read and our insert
                # (no range lock held: Redis down, or a lock that expired). Show what won.
                log.info("booking commit refused (%s, attempt %d): %s on resource %s",
                         sqlstate(err), attempt, booking.window, booking.resource_id)
                if conflicts := await self.overlapping(booking.resource_id, booking.blocks):
                    rejection = StoredOutcome(request_hash, OutcomeKind.SLOT_UNAVAILABLE,
                                              conflicts=conflicts)
                    existing = await self.record_outcome(key, rejection)
                    return Replayed(existing) if existing else Rejected(conflicts)
                continue
            if row["claimed"] is None:  # the key was stored already, no such resource, new rules
                prior = await self.find_outcome(key)
                if prior is not None:
                    return Replayed(prior)
                if not row["resource_found"]:
                    return ResourceMissing()
                if row["rules_version"] != booking.rules_version:
                    log.info("booking commit on resource %s checked against rules v%d, now v%d: "
                             "checking again", booking.resource_id, booking.rules_version, row["rules_version"])
                    raise RulesChanged(f"resource {booking.resource_id}: rules at version "
                                       f"{row['rules_version']}, checked against {booking.rules_version}")
                raise RuntimeError(f"idempotency key {key} neither claimed nor found at commit")
            if row["claimed"] == OutcomeKind.SLOT_UNAVAILABLE:
                return Rejected(tuple(windows_from(row["overlap_starts"], row["overlap_ends"])))
            return Booked(_new_booking(booking, row["created_at"], row["expires_at"]), row["version"])
        raise StoreContention(f"booking on resource {booking.resource_id} refused "
                              f"{COMMIT_ATTEMPTS} times without a visible overlap")

    async def find_outcome(self, key: IdempotencyKey) -> StoredOutcome | None:
        row = await self._one(queries.FIND_OUTCOME, **_key(key))
        return outcome_from(row) if row else None

    async def record_outcome(self, key: IdempotencyKey,
                             outcome: StoredOutcome) -> StoredOutcome | None:
        row = await self._one(queries.RECORD_OUTCOME, **_key(key), **_outcome(outcome))
        return None if row["stored"] else await self.find_outcome(key)

    async def overlapping(self, resource_id: UUID, window: TimeWindow,
                          excluding: UUID | None = None) -> tuple[TimeWindow, ...]:
        row = await self._one(queries.OVERLAPPING, resource=resource_id, start=window.start,
                              end=window.end, excluding=excluding)
        return tuple(windows_from(row["starts"], row["ends"]))

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """A transaction. A connection lost in it (failover, pg_terminate_backend) is
        StoreContention: the answer is CONTENDED, and a retry with the same clientMutationId
        either finds the outcome the transaction stored (if its commit landed) or does the work."""
        try:
            async with self._db.connection() as conn, PostgresUnitOfWork(conn) as uow:
                yield uow
        except CONNECTION_LOST as err:
            await self._db.expire()
            raise StoreContention(f"database connection lost during a transaction ({type(err).__name__})") from err

    # --- rules ---------------------------------------------------------------------------------

    async def read_rules(self, tenant_id: UUID, resource_id: UUID) -> RulesRecord | None:
        row = await self._one(rules_sql.READ_RULES, tenant=tenant_id, resource=resource_id)
        return rules_from(row) if row else None

    async def write_rules(self, key: IdempotencyKey, request_hash: bytes, tenant_id: UUID,
                          resource_id: UUID, expected_version: int,
                          document: str) -> RulesWritten | RulesVersionMismatch | Replayed | ResourceMissing:
        row = await self._one(rules_sql.WRITE_RULES, **_key(key), hash=request_hash,
                              resource=resource_id, expected=expected_version, document=document)
        if row["rules_version"] is not None:
            return RulesWritten(rules_from(row), row["availability_version"])
        if not row["found"]:
            return ResourceMissing()
        if (prior := await self.find_outcome(key)) is not None:
            return Replayed(prior)
        return RulesVersionMismatch(row["current"])

    async def read_slot_inputs(self, tenant_id: UUID, resource_ids: Sequence[UUID],
                               window: TimeWindow) -> dict[UUID, SlotInputs]:
        rows = await self._all(rules_sql.SLOT_INPUTS, tenant=tenant_id, ids=list(resource_ids),
                               start=window.start, end=window.end)
        return {r["id"]: SlotInputs(rules_from(r), r["version"],
                                    list(zip(r["starts"] or (), r["ends"] or (), strict=True)))
                for r in rows}

    # --- resources ----------------------------------------------------------------------------

    async def create_resource(self, key: IdempotencyKey, request_hash: bytes,
                              resource: Resource) -> Resource | Replayed:
        row = await self._one(queries.CREATE_RESOURCE, **_key(key), hash=request_hash,
                              id=resource.id, name=resource.name, time_zone=resource.time_zone)
        if row is None:
            prior = await self.find_outcome(key)
            assert prior is not None, "the key conflicted, so an outcome exists"
            return Replayed(prior)
        return resource_from(row)

    async def get_resource(self, tenant_id: UUID, resource_id: UUID) -> Resource | None:
        row = await self._one(queries.GET_RESOURCE, tenant=tenant_id, id=resource_id)
        return resource_from(row) if row else None

    async def get_resources(self, tenant_id: UUID, ids: Sequence[UUID]) -> list[Resource]:
        rows = await self._all(queries.GET_RESOURCES, tenant=tenant_id, ids=list(ids))
        return [resource_from(r) for r in rows]

    async def list_resources(self, tenant_id: UUID, after: UUID | None, limit: int) -> ResourcePage:
        rows = await self._all(queries.LIST_RESOURCES, tenant=tenant_id, after=after, limit=limit + 1)
        return ResourcePage([resource_from(r) for r in rows[:limit]], len(rows) > limit)

    # --- bookings -----------------------------------------------------------------------------

    async def get_booking(self, tenant_id: UUID, booking_id: UUID) -> Booking | None:
        row = await self._one(queries.GET_BOOKING, tenant=tenant_id, id=booking_id)
        return booking_from(row) if row else None

    async def list_bookings(self, query: BookingFilter) -> BookingPage:
        after_start, after_id = query.after or (None, None)
        rows = await self._all(
            queries.LIST_BOOKINGS, tenant=query.tenant_id, resource=query.resource_id,
            start=query.window.start if query.window else None,
            end=query.window.end if query.window else None,
            status=query.status.value if query.status else None,
            after_start=after_start, after_id=after_id, limit=query.limit + 1)
        return BookingPage([booking_from(r) for r in rows[: query.limit]], len(rows) > query.limit)

    async def tenant_for_key(self, key_hash: bytes) -> UUID | None:
        """The tenant of an unrevoked API key (the authentication path's one query)."""
        row = await self._one(queries.TENANT_FOR_KEY, hash=key_hash)
        return row["tenant_id"] if row else None

    async def read_availability(
        self, tenant_id: UUID, resource_ids: Sequence[UUID], window: TimeWindow
    ) -> dict[UUID, tuple[list[TimeWindow], int]]:
        rows = await self._all(queries.AVAILABILITY, tenant=tenant_id, ids=list(resource_ids),
                               start=window.start, end=window.end)
        return {r["id"]: (windows_from(r["starts"], r["ends"]), r["version"]) for r in rows}


def rules_from(row: Any) -> RulesRecord:
    return RulesRecord(row["time_zone"], row["rules_version"], row["rules"])


def _key(key: IdempotencyKey) -> dict[str, object]:
    return {"tenant": key.tenant_id, "mutation": key.mutation.value, "cmid": key.client_mutation_id}


def _outcome(outcome: StoredOutcome) -> dict[str, object]:
    return {"hash": outcome.request_hash, "kind": outcome.kind.value, "object_id": outcome.object_id,
            "starts": [w.start for w in outcome.conflicts], "ends": [w.end for w in outcome.conflicts]}


def _new_booking(booking: NewBooking, created_at: Any, expires_at: Any) -> Booking:
    status = BookingStatus.CONFIRMED if booking.hold_seconds is None else BookingStatus.HELD
    return Booking(booking.id, booking.tenant_id, booking.resource_id, booking.window, status, 1,
                   booking.reference, booking.note, created_at, created_at, expires_at)

