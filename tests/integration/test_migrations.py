"""The migrations run both ways on a database that holds data: head, back to 0001, head again.

Issue 14's migrations (0002_holds, 0003_rules_and_buffers) change the exclusion constraint and
add columns; a downgrade must leave a working 0001 schema (holds are cancelled, buffers dropped)
and an upgrade after it must take the rows it left.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import asyncpg
from alembic import command

from booking_gateway.infra.postgres.migrate import alembic_config, migrate

CONSTRAINT = ("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
              "WHERE conrelid = 'bookings'::regclass AND conname = 'bookings_no_overlap'")


async def _seed(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        tenant = await conn.fetchval("INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
        room = await conn.fetchval("INSERT INTO resources (id, tenant_id, name, time_zone, rules, rules_version) "
                                   "VALUES (gen_random_uuid(), $1, 'r', 'UTC', '{}', 1) RETURNING id", tenant)
        for start, status, expires in [("09:00", "confirmed", None), ("11:00", "held", 600)]:
            await conn.execute(
                "INSERT INTO bookings (id, tenant_id, resource_id, during, blocked, status, version, created_at, "
                "updated_at, expires_at) VALUES (gen_random_uuid(), $1, $2, tstzrange($3::timestamptz, "
                "$3::timestamptz + interval '1 hour', '[)'), tstzrange($3::timestamptz - interval '10 minutes', "
                "$3::timestamptz + interval '70 minutes', '[)'), $4, 1, now(), now(), "
                "now() + make_interval(secs => $5))",
                tenant, room, datetime.fromisoformat(f"2027-01-01T{start}:00+00:00"), status, expires)
    finally:
        await conn.close()


async def _read(url: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(query))
    finally:
        await conn.close()


def test_head_down_to_0001_and_up_again_keeps_the_data_and_the_constraint(scratch_database: str) -> None:
    migrate(scratch_database)
    asyncio.run(_seed(scratch_database))
    [head] = asyncio.run(_read(scratch_database, CONSTRAINT))
    assert "blocked WITH &&" in head[0], head[0]
    assert "'held'" in head[0], head[0]

    command.downgrade(alembic_config(scratch_database), "0001")
    [down] = asyncio.run(_read(scratch_database, CONSTRAINT))
    assert "during WITH &&" in down[0], down[0]
    assert "'held'" not in down[0], down[0]
    rows = asyncio.run(_read(scratch_database, "SELECT status FROM bookings ORDER BY lower(during)"))
    assert [r["status"] for r in rows] == ["confirmed", "cancelled"]  # the hold could not stay a hold

    migrate(scratch_database)
    [again] = asyncio.run(_read(scratch_database, CONSTRAINT))
    assert again[0] == head[0]
    rows = asyncio.run(_read(scratch_database, "SELECT status, blocked = during AS unbuffered FROM bookings "
                                          "ORDER BY lower(during)"))
    assert [(r["status"], r["unbuffered"]) for r in rows] == [("confirmed", True), ("cancelled", True)]
