"""Shared fixtures: a fresh PostgreSQL database per test run, the real Redis, fresh tenants.

``BOOKING_TEST_DATABASE_URL`` (an admin connection, default the local ``postgres`` db) and
``BOOKING_TEST_REDIS_URL`` point the suite elsewhere. The suite drops only the database it
created, and never flushes Redis: every test works in tenants and keys of its own.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

ADMIN_URL = os.environ.get("BOOKING_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BOOKING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def database_url_for(name: str) -> str:
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))


async def create_database(prefix: str = "bg_test") -> str:
    name = f"{prefix}_{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


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
