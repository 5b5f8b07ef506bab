"""Persisted documents: an operation sent as a sha256 hash instead of (or along with) its text.

The protocol is Apollo's (``extensions.persistedQuery = {"version": 1, "sha256Hash": ...}``),
spoken by Apollo's persisted-queries link, urql's persistedExchange and graphql-codegen's
client preset. Admission asks a :class:`PersistedDocuments` policy for the text to run; the
text then goes through the one document cache (:mod:`booking_gateway.web.documents`), so a
persisted document is parsed and validated once per process like any other. Three policies:

* :class:`AutomaticPersistedQueries` (the default): an unknown hash is answered
  ``PERSISTED_QUERY_NOT_FOUND`` (message ``PersistedQueryNotFound``, which the clients match)
  and the client retries with text and hash; the text is checked against the hash and, once
  admitted, registered in Redis for every process, with a bounded LRU of this process in front.
* :class:`~booking_gateway.web.trusted_documents.TrustedDocuments`: only the documents of a
  manifest made by the client's build run (``BOOKING_TRUSTED_DOCUMENTS``).
* :class:`PersistedQueriesOff`: ``PERSISTED_QUERY_NOT_SUPPORTED``, and clients stop hashing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from booking_gateway.infra.redis.outage import WARN_EVERY_S
from booking_gateway.infra.redis.persisted_queries import Registration

log = logging.getLogger(__name__)

#: Hash-to-text entries the process keeps in front of Redis.
LRU_SIZE = 1024
#: Longest hash (or manifest id) accepted, in characters.
MAX_HASH_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a persisted document cannot run: the HTTP status, ``extensions.code`` and the message."""

    status: int
    code: str
    message: str


def requested_hash(extensions: object) -> str | Problem | None:
    """The ``sha256Hash`` a request's ``extensions`` asks for (None: not a persisted query).

    ``extensions`` is the JSON object of a POST body, a WebSocket payload or a GET request's
    ``extensions`` parameter (which web/get_requests.py has already parsed)."""
    if extensions is None:
        return None
    if not isinstance(extensions, dict):
        return _bad("'extensions' must be a JSON object")
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        return _bad("'extensions.persistedQuery' must be a JSON object with 'version' and 'sha256Hash'")
    if persisted.get("version") != 1:
        return _bad("'extensions.persistedQuery.version' must be 1 (the only version of the protocol)")
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not 0 < len(sha256) <= MAX_HASH_LENGTH:
        return _bad(f"'extensions.persistedQuery.sha256Hash' must be a string of 1 to {MAX_HASH_LENGTH} "
                    "characters (the document's SHA-256 in lowercase hex)")
    return sha256


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def mismatch(sha256: str) -> Problem:
    return Problem(400, "PERSISTED_QUERY_HASH_MISMATCH",
                   f"'extensions.persistedQuery.sha256Hash' ({sha256[:64]}) is not the SHA-256 of 'query' "
                   "(lowercase hex of the UTF-8 text, exactly as sent)")


def _bad(message: str) -> Problem:
    return Problem(400, "BAD_REQUEST", message)


class PersistedDocuments(Protocol):
    async def text(self, tenant_id: UUID, query: str, sha256: str | None) -> str | Problem:
        """The document to run for ``query`` (may be empty) and ``sha256``, or why none runs."""
        ...

    async def admitted(self, tenant_id: UUID, query: str, sha256: str) -> None:
        """``query`` with ``sha256`` was admitted (parsed, validated, within limits)."""
        ...


class PersistedQueryStore(Protocol):
    async def get(self, tenant_id: UUID, sha256: str) -> str | None: ...

    async def register(self, tenant_id: UUID, sha256: str, text: str) -> Registration: ...


class PersistedQueriesOff:
    """``BOOKING_PERSISTED_QUERIES=false``: hashes are ignored when the text is there."""

    async def text(self, tenant_id: UUID, query: str, sha256: str | None) -> str | Problem:
        if sha256 is None or query:
            return query
        return Problem(200, "PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported")

    async def admitted(self, tenant_id: UUID, query: str, sha256: str) -> None:
        return None


class AutomaticPersistedQueries:
    def __init__(self, store: PersistedQueryStore, lru_size: int = LRU_SIZE) -> None:
        self._store = store
        self._size = lru_size
        self._known: OrderedDict[tuple[UUID, str], str] = OrderedDict()
        self._warned_at = -WARN_EVERY_S

    async def text(self, tenant_id: UUID, query: str, sha256: str | None) -> str | Problem:
        if sha256 is None:
            return query
        if query:
            return query if sha256_hex(query) == sha256 else mismatch(sha256)
        key = (tenant_id, sha256)
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            return known
        stored = await self._store.get(tenant_id, sha256)
        if stored is None:
            # Apollo's link and urql's exchange match the message, other clients the code
            return Problem(200, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
        self._remember(key, stored)
        return stored

    async def admitted(self, tenant_id: UUID, query: str, sha256: str) -> None:
        key = (tenant_id, sha256)
        if key in self._known:
            return
        outcome = await self._store.register(tenant_id, sha256, query)
        if outcome in (Registration.STORED, Registration.KNOWN):
            self._remember(key, query)
        elif outcome is not Registration.UNAVAILABLE and self._may_warn():  # the store warns about outages
            log.warning("persisted query %s of tenant %s not stored: %s (it runs, but the client must keep "
                        "sending its text; limits BOOKING_PERSISTED_QUERY_QUOTA, _MAX_BYTES)",
                        sha256[:16], tenant_id, outcome.value)

    def _may_warn(self) -> bool:
        """At most one warning every few seconds: a client over its quota repeats every request."""
        now = time.monotonic()
        if now - self._warned_at < WARN_EVERY_S:
            return False
        self._warned_at = now
        return True

    def _remember(self, key: tuple[UUID, str], text: str) -> None:
        self._known[key] = text
        if len(self._known) > self._size:
            self._known.popitem(last=False)
