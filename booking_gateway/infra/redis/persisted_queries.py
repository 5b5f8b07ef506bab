"""Automatic persisted queries (APQ) in Redis, shared by every gateway process.

A client that sent a document's text once may send only its sha256 afterwards, to any
process. Documents are stored per tenant (``<prefix>:pq:{<tenant>}:<sha256>``), so no tenant
can learn which documents another one uses, and every document expires after ``ttl_s``
unless it is used again. A tenant may register at most ``quota`` documents per ``ttl_s``
period and each document is at most ``max_bytes`` long, so no tenant can fill Redis; past
either limit the operation still runs, it is only not stored (the client keeps sending the
text, which costs it bandwidth and nothing else).

Redis being unreachable is not an error here either: a lookup finds nothing (the client
resends the text) and a registration is skipped, with a warning at most every few seconds.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import Enum
from importlib.resources import files
from typing import TYPE_CHECKING
from uuid import UUID

from redis.exceptions import RedisError

from booking_gateway.infra.redis.keys import persisted_document_key, persisted_quota_key
from booking_gateway.infra.redis.outage import Outage

if TYPE_CHECKING:
    import redis.asyncio as aioredis
    from redis.commands.core import AsyncScript

log = logging.getLogger(__name__)

REGISTER_LUA = (files("booking_gateway.infra.redis") / "lua" / "register_document.lua").read_text(encoding="utf-8")


class Registration(Enum):
    STORED = "stored"
    KNOWN = "known"
    OVER_QUOTA = "over quota"
    TOO_LARGE = "too large"
    UNAVAILABLE = "Redis unavailable"


@dataclass(frozen=True, slots=True)
class PersistedQueryLimits:
    #: a document expires this long after its last registration
    ttl_s: int = 7 * 86_400
    #: longest document stored, in UTF-8 bytes
    max_bytes: int = 32_768
    #: documents one tenant may register per ``ttl_s`` period
    quota: int = 1_000


class RedisPersistedQueries:
    def __init__(self, client: aioredis.Redis, prefix: str, limits: PersistedQueryLimits) -> None:
        self._redis = client
        self._prefix = prefix
        self.limits = limits
        self._register: AsyncScript = client.register_script(REGISTER_LUA)
        self._outage = Outage(
            feature="Redis persisted-query store",
            consequence="hash-only requests are answered PERSISTED_QUERY_NOT_FOUND and clients resend the text",
            recovery="persisted queries are stored and read again",
            probe_interval_s=1.0, monotonic=time.monotonic, logger=log)

    async def get(self, tenant_id: UUID, sha256: str) -> str | None:
        """The text registered under ``sha256`` by this tenant, or None (unknown, expired, Redis down)."""
        if self._outage.skip():
            return None
        try:
            raw = await self._redis.get(persisted_document_key(self._prefix, tenant_id, sha256))
        except (RedisError, OSError) as err:
            self._outage.failed(err, "reading a persisted query")
            return None
        self._outage.answered()
        return raw.decode() if isinstance(raw, bytes) else raw

    async def register(self, tenant_id: UUID, sha256: str, text: str) -> Registration:
        """Store ``text`` (whose sha256 the caller has checked) unless a limit says no."""
        encoded = text.encode()
        if len(encoded) > self.limits.max_bytes:
            return Registration.TOO_LARGE
        if self._outage.skip():
            return Registration.UNAVAILABLE
        keys = [persisted_document_key(self._prefix, tenant_id, sha256), persisted_quota_key(self._prefix, tenant_id)]
        try:
            stored = await self._register(keys=keys, args=[encoded, self.limits.ttl_s, self.limits.quota])
        except (RedisError, OSError) as err:
            self._outage.failed(err, "registering a persisted query")
            return Registration.UNAVAILABLE
        self._outage.answered()
        return {1: Registration.STORED, 0: Registration.KNOWN}.get(int(stored), Registration.OVER_QUOTA)
