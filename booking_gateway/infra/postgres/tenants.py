"""``TenantDirectory`` on PostgreSQL: tenants and their hashed API keys."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_gateway.domain.tenancy import ApiKey, Tenant

_KEY_COLUMNS = "id, tenant_id, hint, created_at, revoked_at"


class PostgresTenantDirectory:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def _one(self, sql: str, **params: Any) -> Any:
        async with self._engine.connect() as conn:
            return (await conn.execute(text(sql), params)).one_or_none()

    async def create_tenant(self, name: str) -> Tenant:
        row = await self._one("INSERT INTO tenants (id, name) VALUES (:id, :name) RETURNING id, name",
                              id=uuid4(), name=name)
        return Tenant(row.id, row.name)

    async def find_tenant(self, name_or_id: str) -> Tenant | None:
        try:
            row = await self._one("SELECT id, name FROM tenants WHERE id = :id", id=UUID(name_or_id))
        except ValueError:
            row = None
        row = row or await self._one("SELECT id, name FROM tenants WHERE name = :name", name=name_or_id)
        return Tenant(row.id, row.name) if row else None

    async def add_key(self, tenant_id: UUID, key_hash: bytes, hint: str) -> ApiKey:
        row = await self._one(
            f"INSERT INTO api_keys (id, tenant_id, key_hash, hint) VALUES (:id, :tenant, :hash, :hint) "
            f"RETURNING {_KEY_COLUMNS}", id=uuid4(), tenant=tenant_id, hash=key_hash, hint=hint)
        return _key(row)

    async def list_keys(self, tenant_id: UUID) -> list[ApiKey]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(text(
                f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = :tenant ORDER BY created_at"),
                {"tenant": tenant_id})).all()
        return [_key(r) for r in rows]

    async def revoke_key(self, key_id_or_hash: UUID | bytes) -> ApiKey | None:
        column = "id" if isinstance(key_id_or_hash, UUID) else "key_hash"
        row = await self._one(
            f"UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE {column} = :v "
            f"RETURNING {_KEY_COLUMNS}", v=key_id_or_hash)
        return _key(row) if row else None

    async def tenant_for_key(self, key_hash: bytes) -> UUID | None:
        row = await self._one("SELECT tenant_id FROM api_keys WHERE key_hash = :hash AND revoked_at IS NULL",
                              hash=key_hash)
        return row.tenant_id if row else None


def _key(row: Any) -> ApiKey:
    return ApiKey(row.id, row.tenant_id, row.hint, row.created_at, row.revoked_at)
