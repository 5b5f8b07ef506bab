"""Adapters against the real servers, and a gateway wired exactly as ``app.py`` does it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from booking_gateway.app import Gateway
from booking_gateway.domain.outcome import Deps
from booking_gateway.domain.tenancy import hash_secret, hint_of, new_secret
from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory
from booking_gateway.infra.settings import Settings


@pytest.fixture
def settings(database_url: str, redis_url: str, redis_prefix: str) -> Settings:
    return Settings(database_url=database_url, redis_url=redis_url, redis_prefix=redis_prefix,
                    lock_wait_ms=2000, lock_ttl_ms=10_000, db_pool_size=20, db_pool_overflow=20)


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    gw = Gateway(settings)
    try:
        yield gw
    finally:
        await gw.stop()


@pytest.fixture
def deps(gateway: Gateway) -> Deps:
    return gateway.deps


@pytest.fixture
async def tenant_key(gateway: Gateway) -> tuple[UUID, str]:
    """A fresh tenant of this test and its API key."""
    directory = PostgresTenantDirectory(gateway.engine)
    tenant = await directory.create_tenant(f"t-{new_secret()[-12:]}")
    secret = new_secret()
    await directory.add_key(tenant.id, hash_secret(secret), hint_of(secret))
    return tenant.id, secret


@pytest.fixture
def tenant_id(tenant_key: tuple[UUID, str]) -> UUID:
    return tenant_key[0]
