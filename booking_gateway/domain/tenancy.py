"""Tenants and their API keys: keys are random, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

KEY_PREFIX = "bgk_"


@dataclass(frozen=True, slots=True)
class Tenant:
    id: UUID
    name: str


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: UUID
    tenant_id: UUID
    #: The first characters of the key, enough to recognise it in a list; never the secret.
    hint: str
    created_at: datetime
    revoked_at: datetime | None


def new_secret() -> str:
    """A fresh API key: 256 random bits, URL-safe, recognisable by its prefix."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    """SHA-256 suffices: the keys are random 256-bit values, not passwords."""
    return hashlib.sha256(secret.encode()).digest()


def hint_of(secret: str) -> str:
    return secret[: len(KEY_PREFIX) + 6]


class TenantDirectory(Protocol):
    async def create_tenant(self, name: str) -> Tenant: ...

    async def find_tenant(self, name_or_id: str) -> Tenant | None: ...

    async def add_key(self, tenant_id: UUID, key_hash: bytes, hint: str) -> ApiKey: ...

    async def list_keys(self, tenant_id: UUID) -> list[ApiKey]: ...

    async def revoke_key(self, key_id_or_hash: UUID | bytes) -> ApiKey | None: ...

    async def tenant_for_key(self, key_hash: bytes) -> UUID | None:
        """The tenant of an unrevoked key, or None."""
        ...
