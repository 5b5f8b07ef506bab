"""Operator actions on tenants and keys, shared by the CLI and the zero-config start."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_gateway.domain.tenancy import KEY_PREFIX, ApiKey, Tenant, hash_secret, hint_of, new_secret
from booking_gateway.infra.postgres.engine import create_engine
from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory
from booking_gateway.infra.settings import Settings

log = logging.getLogger(__name__)

DEVELOPMENT_TENANT = "development"
DEVELOPMENT_KEY_FILE = "development-api-key"


class TenantError(Exception):
    """An operator mistake (duplicate name, unknown tenant), explained in one line."""


async def create_tenant(engine: AsyncEngine, name: str) -> tuple[Tenant, str]:
    """A new tenant and its first key (the secret, returned once)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise TenantError("a tenant name must be 1 to 100 characters long")
    directory = PostgresTenantDirectory(engine)
    try:
        tenant = await directory.create_tenant(name)
    except IntegrityError:
        raise TenantError(f"a tenant named {name!r} already exists") from None
    return tenant, await add_key(directory, tenant)


async def create_key(engine: AsyncEngine, tenant_name_or_id: str) -> str:
    directory = PostgresTenantDirectory(engine)
    return await add_key(directory, await _tenant(directory, tenant_name_or_id))


async def list_keys(engine: AsyncEngine, tenant_name_or_id: str) -> list[ApiKey]:
    directory = PostgresTenantDirectory(engine)
    return await directory.list_keys((await _tenant(directory, tenant_name_or_id)).id)


async def revoke_key(engine: AsyncEngine, key_or_id: str) -> ApiKey:
    """Revoke by the key's id (from ``key list``) or by the key itself."""
    try:
        target: UUID | bytes = UUID(key_or_id)
    except ValueError:
        if not key_or_id.startswith(KEY_PREFIX):
            raise TenantError(f"{key_or_id[:12]!r} is neither a key id nor an API key") from None
        target = hash_secret(key_or_id)
    revoked = await PostgresTenantDirectory(engine).revoke_key(target)
    if revoked is None:
        raise TenantError("no such key")
    return revoked


async def _tenant(directory: PostgresTenantDirectory, name_or_id: str) -> Tenant:
    tenant = await directory.find_tenant(name_or_id)
    if tenant is None:
        raise TenantError(f"no tenant named {name_or_id!r}")
    return tenant


async def add_key(directory: PostgresTenantDirectory, tenant: Tenant) -> str:
    secret = new_secret()
    await directory.add_key(tenant.id, hash_secret(secret), hint_of(secret))
    return secret


async def development_key(settings: Settings) -> str:
    """The zero-config tenant's key: kept in the data folder (mode 0600) so that it can be
    printed at every start; a key found revoked is replaced."""
    assert settings.database_url is not None
    path = Path(settings.data_dir) / DEVELOPMENT_KEY_FILE
    engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        directory = PostgresTenantDirectory(engine)
        if path.exists():
            secret = path.read_text().strip()
            if await directory.tenant_for_key(hash_secret(secret)) is not None:
                return secret
            log.info("the stored development key is unknown or revoked; issuing a new one")
        tenant = await directory.find_tenant(DEVELOPMENT_TENANT)
        if tenant is None:
            tenant = await directory.create_tenant(DEVELOPMENT_TENANT)
        secret = await add_key(directory, tenant)
    finally:
        await engine.dispose()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret
