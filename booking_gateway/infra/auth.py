"""API-key authentication with a short-lived cache.

Every request presents a key; hashing it and asking PostgreSQL each time would cost a
round trip per request. Answers (including "no such key") are cached for
``ttl_seconds``, so a revoked key stops working within that time on every process. The cache
is keyed by the presented key itself, so a hit costs a dict lookup and the hash is computed
only on a miss (the process keeps keys it was sent for at most the TTL; they pass through its
memory with every request anyway). Tokens longer than any real key are keyed by their hash, so
junk tokens cannot fill memory.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from uuid import UUID

from booking_gateway.domain.tenancy import hash_secret

#: The tenant of an unrevoked key's hash, or None.
KeyLookup = Callable[[bytes], Awaitable[UUID | None]]

#: Bound on cached keys, so a flood of random bearer tokens cannot grow memory without limit.
MAX_CACHED_KEYS = 10_000

#: Real keys are 47 characters; longer tokens are cached under their hash instead.
MAX_PLAIN_KEY = 128


class KeyAuthenticator:
    def __init__(self, lookup: KeyLookup, ttl_seconds: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lookup = lookup
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[str | bytes, tuple[float, UUID | None]] = {}

    async def tenant_for(self, secret: str) -> UUID | None:
        """The tenant of an unrevoked key, or None."""
        now = self._monotonic()
        key: str | bytes = secret if len(secret) <= MAX_PLAIN_KEY else hash_secret(secret)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        tenant_id = await self._lookup(key if isinstance(key, bytes) else hash_secret(key))
        if self._ttl > 0:
            if len(self._cache) >= MAX_CACHED_KEYS:
                self._evict(now)
            self._cache[key] = (now + self._ttl, tenant_id)
        return tenant_id

    def forget(self) -> None:
        self._cache.clear()

    def _evict(self, now: float) -> None:
        self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        if len(self._cache) >= MAX_CACHED_KEYS:
            self._cache.clear()
