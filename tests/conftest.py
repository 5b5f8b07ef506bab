"""Shared fixtures: a fresh PostgreSQL database per test run, the real Redis, fresh tenants.

``BOOKING_TEST_DATABASE_URL`` (an admin connection, default the local ``postgres`` db) and
``BOOKING_TEST_REDIS_URL`` point the suite elsewhere. The suite drops only the database it
created, and never flushes Redis: every test works in tenants and keys of its own.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from booking_gateway.infra.postgres import scratch

ADMIN_URL = os.environ.get("BOOKING_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BOOKING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def database_url_for(name: str) -> str:
    return scratch.database_url(ADMIN_URL, name)


async def create_database(prefix: str = "bg_test") -> str:
    return await scratch.create_database(ADMIN_URL, prefix)


async def drop_database(name: str) -> None:
    await scratch.drop_database(ADMIN_URL, name)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database created for this run, migrated to head, dropped afterwards."""
    from booking_gateway.infra.postgres.migrate import migrate

    name = asyncio.run(create_database())
    url = database_url_for(name)
    try:
        migrate(url)
        yield url
    finally:
        asyncio.run(drop_database(name))


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """An empty database of the test's own (not migrated), dropped afterwards."""
    name = asyncio.run(create_database("bg_scratch"))
    try:
        yield database_url_for(name)
    finally:
        asyncio.run(drop_database(name))


@pytest.fixture(scope="session")
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture(scope="session")
def redis_prefix() -> str:
    return f"bgtest-{secrets.token_hex(4)}"


@pytest.fixture
async def admin_connection(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()
