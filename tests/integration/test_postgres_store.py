"""The PostgreSQL store against the real server: the booking statements, replay records,
the exclusion constraint as the last line of defence, and the unit of work."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest

from booking_gateway.app import Gateway
from booking_gateway.domain.idempotency import IdempotencyKey, Mutation, OutcomeKind, StoredOutcome
from booking_gateway.domain.model import BookingStatus, Resource
from booking_gateway.domain.outcome import Deps
from booking_gateway.domain.ports import Booked, NewBooking, Rejected, Replayed, ResourceMissing
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.postgres import booking_sql
from booking_gateway.infra.postgres.store import PostgresBookingStore
from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory

T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)


def window(start_h: float, end_h: float) -> TimeWindow:
    return TimeWindow(T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h))


async def new_resource(store: PostgresBookingStore, tenant_id: UUID) -> Resource:
    key = IdempotencyKey(tenant_id, Mutation.CREATE_RESOURCE, f"r-{uuid4()}")
    created = await store.create_resource(key, b"h", Resource(uuid4(), tenant_id, "Room", "UTC", T0))
    assert isinstance(created, Resource)
    return created


def key(tenant_id: UUID, name: str) -> IdempotencyKey:
    return IdempotencyKey(tenant_id, Mutation.BOOK_SLOT, name)


def booking(tenant_id: UUID, resource_id: UUID, w: TimeWindow) -> NewBooking:
    return NewBooking(uuid4(), tenant_id, resource_id, w, "order-1", None)


@pytest.fixture
def store(deps: Deps) -> PostgresBookingStore:
    assert isinstance(deps.store, PostgresBookingStore)
    return deps.store


async def test_commit_then_precheck_sees_the_booking_and_records_the_rejection(
        store: PostgresBookingStore, tenant_id: UUID) -> None:
    resource = await new_resource(store, tenant_id)
    booked = await store.commit_booking(key(tenant_id, "a"), b"ha", booking(tenant_id, resource.id, window(0, 2)))
    assert isinstance(booked, Booked)
    assert booked.availability_version == 1
    assert booked.booking.status is BookingStatus.CONFIRMED

    pre = await store.precheck_booking(key(tenant_id, "b"), b"hb", resource.id, window(1, 3))
    assert pre.prior is None
    assert pre.resource_found
    assert pre.conflicts == (window(0, 2),)
    assert pre.rejection_recorded
    stored = await store.find_outcome(key(tenant_id, "b"))
    assert stored == StoredOutcome(b"hb", OutcomeKind.SLOT_UNAVAILABLE, None, (window(0, 2),))


async def test_adjacent_windows_do_not_conflict(store: PostgresBookingStore, tenant_id: UUID) -> None:
    resource = await new_resource(store, tenant_id)
    assert isinstance(await store.commit_booking(
        key(tenant_id, "a"), b"h", booking(tenant_id, resource.id, window(0, 1))), Booked)
    pre = await store.precheck_booking(key(tenant_id, "b"), b"h", resource.id, window(1, 2))
    assert pre.conflicts == ()
    assert not pre.rejection_recorded
    assert isinstance(await store.commit_booking(
        key(tenant_id, "b"), b"h", booking(tenant_id, resource.id, window(1, 2))), Booked)


async def test_precheck_returns_the_prior_outcome_and_foreign_resources_are_not_found(
        store: PostgresBookingStore, tenant_id: UUID) -> None:
    resource = await new_resource(store, tenant_id)
    first = booking(tenant_id, resource.id, window(0, 1))
    await store.commit_booking(key(tenant_id, "a"), b"h", first)
    pre = await store.precheck_booking(key(tenant_id, "a"), b"h", resource.id, window(0, 1))
    assert pre.prior == StoredOutcome(b"h", OutcomeKind.SUCCEEDED, first.id, ())
    other_tenant = uuid4()
    pre = await store.precheck_booking(key(other_tenant, "x"), b"h", resource.id, window(5, 6))
    assert not pre.resource_found


async def test_commit_with_a_used_key_replays_and_writes_nothing(
        store: PostgresBookingStore, tenant_id: UUID) -> None:
    resource = await new_resource(store, tenant_id)
    first = booking(tenant_id, resource.id, window(0, 1))
    await store.commit_booking(key(tenant_id, "a"), b"h", first)
    again = await store.commit_booking(key(tenant_id, "a"), b"h", booking(tenant_id, resource.id, window(3, 4)))
    assert again == Replayed(StoredOutcome(b"h", OutcomeKind.SUCCEEDED, first.id, ()))
    availability = await store.read_availability(tenant_id, [resource.id], window(0, 10))
    assert availability[resource.id] == ([window(0, 1)], 1)


async def test_commit_on_a_foreign_or_unknown_resource_is_missing_and_writes_nothing(
        store: PostgresBookingStore, tenant_id: UUID, gateway: Gateway) -> None:
    other = await PostgresTenantDirectory(gateway.engine).create_tenant(f"other-{uuid4().hex[:8]}")
    foreign = await new_resource(store, other.id)
    for resource_id in (foreign.id, uuid4()):
        missing = await store.commit_booking(key(tenant_id, f"m-{resource_id}"), b"h",
                                             booking(tenant_id, resource_id, window(0, 1)))
        assert missing == ResourceMissing()
        assert await store.find_outcome(key(tenant_id, f"m-{resource_id}")) is None
    assert (await store.read_availability(foreign.tenant_id, [foreign.id], window(0, 10)))[foreign.id] == ([], 0)


async def test_commit_decides_a_rejection_on_its_own_and_records_it(
        store: PostgresBookingStore, tenant_id: UUID) -> None:
    resource = await new_resource(store, tenant_id)
    await store.commit_booking(key(tenant_id, "a"), b"h", booking(tenant_id, resource.id, window(0, 2)))
    refused = await store.commit_booking(key(tenant_id, "b"), b"hb", booking(tenant_id, resource.id, window(1, 3)))
    assert refused == Rejected((window(0, 2),))
    assert await store.find_outcome(key(tenant_id, "b")) == StoredOutcome(
        b"hb", OutcomeKind.SLOT_UNAVAILABLE, None, (window(0, 2),))


async def test_exclusion_constraint_refusal_becomes_a_recorded_rejection(
        store: PostgresBookingStore, tenant_id: UUID, admin_connection: asyncpg.Connection) -> None:
    """No lock held (Redis down): a concurrent overlapping insert commits while our statement
    runs. The constraint refuses ours (23P01); the store re-reads and answers SLOT_UNAVAILABLE."""
    resource = await new_resource(store, tenant_id)
    rival = uuid4()
    tx = admin_connection.transaction()
    await tx.start()
    await admin_connection.execute(
        "INSERT INTO bookings (id, tenant_id, resource_id, during, blocked, status, version, created_at, "
        "updated_at) VALUES ($1, $2, $3, tstzrange($4, $5, '[)'), tstzrange($4, $5, '[)'), 'confirmed', 1, "
        "now(), now())",
        rival, tenant_id, resource.id, T0, T0 + timedelta(hours=2))
    commit = asyncio.create_task(store.commit_booking(
        key(tenant_id, "late"), b"h", booking(tenant_id, resource.id, window(1, 3))))
    await asyncio.sleep(0.3)
    assert not commit.done(), "the insert must wait for the rival transaction"
    await tx.commit()
    result = await asyncio.wait_for(commit, 10)
    assert result == Rejected((window(0, 2),))
    stored = await store.find_outcome(key(tenant_id, "late"))
    assert stored is not None
    assert stored.kind is OutcomeKind.SLOT_UNAVAILABLE


async def test_unit_of_work_rolls_back_unless_committed(store: PostgresBookingStore, tenant_id: UUID) -> None:
    resource = await new_resource(store, tenant_id)
    created = booking(tenant_id, resource.id, window(0, 1))
    await store.commit_booking(key(tenant_id, "a"), b"h", created)
    current = await store.get_booking(tenant_id, created.id)
    assert current is not None

    with pytest.raises(RuntimeError, match="boom"):
        async with store.unit_of_work() as uow:
            locked = await uow.booking_for_update(tenant_id, created.id)
            assert locked is not None
            await uow.update_booking(locked.cancelled(T0))
            await uow.bump_availability_version(resource.id)
            raise RuntimeError("boom")
    async with store.unit_of_work() as uow:  # no commit either: also rolled back
        await uow.update_booking(current.cancelled(T0))

    after = await store.get_booking(tenant_id, created.id)
    assert after == current
    assert (await store.read_availability(tenant_id, [resource.id], window(0, 1)))[resource.id][1] == 1


async def test_availability_is_tenant_scoped_and_lists_page(store: PostgresBookingStore, tenant_id: UUID) -> None:
    resource = await new_resource(store, tenant_id)
    for i in range(5):
        await store.commit_booking(key(tenant_id, f"k{i}"), b"h", booking(tenant_id, resource.id, window(i, i + 1)))
    assert await store.read_availability(uuid4(), [resource.id], window(0, 5)) == {}
    from booking_gateway.domain.ports import BookingFilter

    first = await store.list_bookings(BookingFilter(tenant_id, resource.id, None, None, None, 2))
    assert [b.window for b in first.bookings] == [window(0, 1), window(1, 2)]
    assert first.has_next
    last = first.bookings[-1]
    rest = await store.list_bookings(BookingFilter(tenant_id, resource.id, None, BookingStatus.CONFIRMED,
                                                   (last.window.start, last.id), 10))
    assert [b.window for b in rest.bookings] == [window(2, 3), window(3, 4), window(4, 5)]
    assert not rest.has_next


async def test_a_statement_survives_its_connection_being_terminated(
        store: PostgresBookingStore, tenant_id: UUID, admin_connection: asyncpg.Connection) -> None:
    """pg_terminate_backend on every gateway connection (a failover): the next statement retries
    once on a fresh connection instead of failing the request."""
    resource = await new_resource(store, tenant_id)
    await store.get_resource(tenant_id, resource.id)  # the pool holds live connections now
    killed = await admin_connection.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = 'booking-gateway' AND pid <> pg_backend_pid()")
    assert killed >= 1
    assert await store.get_resource(tenant_id, resource.id) == resource
    booked = await store.commit_booking(key(tenant_id, "after-kill"), b"h",
                                        booking(tenant_id, resource.id, window(0, 1)))
    assert isinstance(booked, Booked)


async def test_a_transaction_whose_connection_dies_is_contention_and_writes_nothing(
        store: PostgresBookingStore, tenant_id: UUID, admin_connection: asyncpg.Connection) -> None:
    from booking_gateway.domain.ports import StoreContention

    resource = await new_resource(store, tenant_id)
    created = booking(tenant_id, resource.id, window(0, 1))
    await store.commit_booking(key(tenant_id, "a"), b"h", created)
    with pytest.raises(StoreContention):
        async with store.unit_of_work() as uow:
            locked = await uow.booking_for_update(tenant_id, created.id)
            assert locked is not None
            await uow.update_booking(locked.cancelled(T0))
            await admin_connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'booking-gateway' AND pid <> pg_backend_pid()")
            await uow.bump_availability_version(resource.id)
            await uow.commit()
    after = await store.get_booking(tenant_id, created.id)
    assert after is not None
    assert after.status is BookingStatus.CONFIRMED, "the transaction died with its connection"


async def test_the_precheck_commits_its_rejection_record_lazily_without_leaking_the_setting(
        store: PostgresBookingStore, tenant_id: UUID, gateway: Gateway) -> None:
    resource = await new_resource(store, tenant_id)
    await store.commit_booking(key(tenant_id, "a"), b"h", booking(tenant_id, resource.id, window(0, 2)))
    async with gateway.database.connection() as conn:
        row = await conn.fetchrow(booking_sql.PRECHECK.text, *booking_sql.PRECHECK.args({
            "tenant": tenant_id, "mutation": Mutation.BOOK_SLOT.value, "cmid": "lazy", "hash": b"h",
            "resource": resource.id, "start": window(1, 3).start, "end": window(1, 3).end,
            "rules_version": 0}))
        assert row["rejection_recorded"]
        # set_config(..., true) lasted only for the statement's own transaction: the pooled
        # connection's next commit (a booking) waits for the WAL flush again
        assert await conn.fetchval("SHOW synchronous_commit") == "on"
    assert (await store.find_outcome(key(tenant_id, "lazy"))) is not None
