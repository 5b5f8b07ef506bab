"""The operator commands, run as operators run them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import asyncpg

from tests.e2e.servers import ROOT, cli

CONTRACT_CHECK = ROOT / "contract" / "tools" / "contract_check.py"
SHARED = ROOT.parent / "shared"


def test_exported_schema_file_matches_the_code() -> None:
    from booking_gateway.schema.build import export_sdl

    assert (ROOT / "schema.graphql").read_text() == export_sdl(), \
        "schema.graphql drifted from the code: run `booking-gateway export-schema -o schema.graphql`"


def test_export_schema_command_prints_the_sdl(gateway_env: dict[str, str]) -> None:
    assert cli("export-schema", env={}).stdout == (ROOT / "schema.graphql").read_text()


def test_schema_honours_the_public_contract() -> None:
    result = subprocess.run([sys.executable, str(CONTRACT_CHECK), str(ROOT / "schema.graphql")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_vendored_contract_matches_the_shared_original() -> None:
    """Where the shared originals sit beside the checkout (the team's machines), they must equal
    the vendored copies; a clone elsewhere checks against the copies alone."""
    for relative in ("api/schema.graphql", "tools/contract_check.py"):
        original = SHARED / relative
        if original.exists():
            assert (ROOT / "contract" / relative).read_text() == original.read_text(), relative


def test_tenant_create_prints_the_key_last(gateway_env: dict[str, str]) -> None:
    out = cli("tenant", "create", "cli-tenant-a", env=gateway_env).stdout.strip().splitlines()
    assert out[-1].startswith("API key: bgk_")
    duplicate = cli("tenant", "create", "cli-tenant-a", env=gateway_env, check=False)
    assert duplicate.returncode != 0
    assert "already exists" in duplicate.stderr


def test_bad_settings_are_one_line_errors(gateway_env: dict[str, str]) -> None:
    result = cli("migrate", env={**gateway_env, "BOOKING_LOCK_WAIT_MS": "soon"}, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: BOOKING_LOCK_WAIT_MS='soon' is invalid: Input should be a valid integer, "
        "unable to parse string as an integer"]


def test_reconcile_finds_conflicts_only_when_there_are_some(scratch_database: str, redis_url: str) -> None:
    env = {"BOOKING_DATABASE_URL": scratch_database, "BOOKING_REDIS_URL": redis_url}
    cli("migrate", env=env)
    clean = cli("reconcile", env=env, check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "conflicting booking pairs (confirmed or live holds, buffers included): 0" in clean.stdout

    async def sneak_in_conflicts() -> None:
        conn = await asyncpg.connect(scratch_database)
        try:
            await conn.execute("ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap")
            tenant = await conn.fetchval("INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 't') "
                                         "RETURNING id")
            room = await conn.fetchval("INSERT INTO resources (id, tenant_id, name, time_zone) "
                                       "VALUES (gen_random_uuid(), $1, 'r', 'UTC') RETURNING id", tenant)
            # (window, blocked window, status, hold expiry in seconds from now)
            for start, end, bend, status, expires in [
                    ("09:00", "10:00", "10:00", "confirmed", None),
                    ("09:30", "11:00", "11:00", "confirmed", None),  # 1: overlaps the first
                    ("10:00", "12:00", "12:00", "cancelled", None),  # blocks nothing
                    ("11:00", "12:00", "12:00", "confirmed", None),
                    ("11:30", "12:30", "12:30", "held", -60),        # expired: blocks nothing
                    ("13:00", "14:00", "14:15", "confirmed", None),
                    ("14:05", "15:00", "15:00", "held", 600),        # 2: a live hold in a buffer
            ]:
                await conn.execute(
                    "INSERT INTO bookings (id, tenant_id, resource_id, during, blocked, status, version, "
                    "created_at, updated_at, expires_at) VALUES (gen_random_uuid(), $1, $2, "
                    "tstzrange($3, $4, '[)'), tstzrange($3, $5, '[)'), $6, 1, now(), now(), "
                    "now() + make_interval(secs => $7))",
                    tenant, room, datetime.fromisoformat(f"2027-01-01T{start}Z"),
                    datetime.fromisoformat(f"2027-01-01T{end}Z"), datetime.fromisoformat(f"2027-01-01T{bend}Z"),
                    status, expires)
        finally:
            await conn.close()

    asyncio.run(sneak_in_conflicts())
    dirty = cli("reconcile", env=env, check=False)
    assert dirty.returncode == 1
    assert dirty.stdout.count("OVERLAP ") == 2, dirty.stdout
    assert "[2027-01-01T09:30:00+00:00, 2027-01-01T11:00:00+00:00)" in dirty.stdout
    assert "[2027-01-01T14:05:00+00:00, 2027-01-01T15:00:00+00:00)" in dirty.stdout
    assert "conflicting booking pairs (confirmed or live holds, buffers included): 2" in dirty.stdout


def test_module_path_is_importable_without_connecting() -> None:
    """Nothing connects at import time: importing the app module needs no server."""
    code = "import booking_gateway.app, booking_gateway.cli; print('ok')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PATH": ""}, cwd=Path(ROOT)).stdout.strip() == "ok"


def test_prune_idempotency_forgets_only_old_keys(scratch_database: str) -> None:
    env = {"BOOKING_DATABASE_URL": scratch_database}
    cli("migrate", env=env)

    async def seed_and_count(seed: bool) -> tuple[int, int]:
        conn = await asyncpg.connect(scratch_database)
        try:
            if seed:
                await conn.execute(
                    "INSERT INTO idempotency_records (tenant_id, mutation, client_mutation_id, request_hash, kind, "
                    "created_at) SELECT gen_random_uuid(), 'bookSlot', 'k' || i, '\\x00', 'slot_unavailable', "
                    "now() - (CASE WHEN i % 3 = 0 THEN interval '40 days' ELSE interval '1 day' END) "
                    "FROM generate_series(1, 30) AS i")
            old = await conn.fetchval("SELECT count(*) FROM idempotency_records WHERE created_at < now() - "
                                      "interval '30 days'")
            return int(old), int(await conn.fetchval("SELECT count(*) FROM idempotency_records"))
        finally:
            await conn.close()

    assert asyncio.run(seed_and_count(seed=True)) == (10, 30)
    out = cli("prune-idempotency", "--older-than-days", "30", env=env).stdout
    assert "deleted 10 idempotency records older than 30 days" in out
    assert asyncio.run(seed_and_count(seed=False)) == (0, 20)
