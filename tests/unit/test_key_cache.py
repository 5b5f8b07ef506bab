"""The API-key cache: lookups by hash, a hit without hashing, revocation within the TTL."""

from __future__ import annotations

import uuid

import pytest

from booking_gateway.domain.tenancy import hash_secret, new_secret
from booking_gateway.infra import auth
from booking_gateway.infra.auth import KeyAuthenticator

TENANT = uuid.uuid4()


class Keys:
    """A key store: the hashes of unrevoked keys, and the lookups made."""

    def __init__(self, *secrets: str) -> None:
        self.valid = {hash_secret(s) for s in secrets}
        self.lookups: list[bytes] = []

    async def lookup(self, key_hash: bytes) -> uuid.UUID | None:
        self.lookups.append(key_hash)
        return TENANT if key_hash in self.valid else None


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_cached_key_is_neither_looked_up_nor_hashed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = new_secret()
    keys, clock = Keys(secret), Clock()
    authenticator = KeyAuthenticator(keys.lookup, ttl_seconds=5, monotonic=clock)
    assert await authenticator.tenant_for(secret) == TENANT
    assert keys.lookups == [hash_secret(secret)]

    def no_hashing(secret: str) -> bytes:
        raise AssertionError("a cache hit hashes nothing")

    monkeypatch.setattr(auth, "hash_secret", no_hashing)
    assert await authenticator.tenant_for(secret) == TENANT
    monkeypatch.undo()
    assert await authenticator.tenant_for("bgk_unknown") is None  # a miss asks (by hash)
    assert len(keys.lookups) == 2


async def test_a_revoked_key_stops_working_once_the_ttl_passed() -> None:
    secret = new_secret()
    keys, clock = Keys(secret), Clock()
    authenticator = KeyAuthenticator(keys.lookup, ttl_seconds=5, monotonic=clock)
    assert await authenticator.tenant_for(secret) == TENANT
    keys.valid.clear()  # revoked
    clock.now += 4.9
    assert await authenticator.tenant_for(secret) == TENANT
    clock.now += 0.2
    assert await authenticator.tenant_for(secret) is None
    assert keys.lookups == [hash_secret(secret)] * 2


async def test_long_tokens_are_cached_under_their_hash_and_the_cache_is_bounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "MAX_CACHED_KEYS", 10)
    keys, clock = Keys(), Clock()
    authenticator = KeyAuthenticator(keys.lookup, ttl_seconds=5, monotonic=clock)
    junk = "x" * 10_000
    assert await authenticator.tenant_for(junk) is None
    assert await authenticator.tenant_for(junk) is None
    assert keys.lookups == [hash_secret(junk)]
    assert list(authenticator._cache) == [hash_secret(junk)]
    for i in range(25):
        await authenticator.tenant_for(f"bgk_{i}")
    assert len(authenticator._cache) <= 10


async def test_a_zero_ttl_caches_nothing() -> None:
    secret = new_secret()
    keys = Keys(secret)
    authenticator = KeyAuthenticator(keys.lookup, ttl_seconds=0)
    for _ in range(3):
        assert await authenticator.tenant_for(secret) == TENANT
    assert len(keys.lookups) == 3
