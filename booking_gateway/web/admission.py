"""What every GraphQL operation passes before it runs, whatever carried it.

HTTP POST and both WebSocket protocols admit an operation here, so one document cache, one set
of limits (tokens, depth, aliases, cost, introspection) and one rate limiter apply to all of
them: a limit that one transport forgets is a hole (an outside probe found exactly that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from graphql import DocumentNode, OperationType

from booking_gateway.web.documents import DocumentCache
from booking_gateway.web.persisted import PersistedDocuments, PersistedQueriesOff, Problem, requested_hash


class Decision(Protocol):
    @property
    def allowed(self) -> bool: ...

    @property
    def retry_after_s(self) -> float: ...


class RateLimiter(Protocol):
    @property
    def enabled(self) -> bool: ...

    @property
    def burst(self) -> int: ...

    async def check(self, tenant_id: UUID, cost: int = 1) -> Decision: ...


@dataclass(frozen=True, slots=True)
class Request:
    """One operation as a client sent it."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    #: ``extensions.persistedQuery.sha256Hash`` (web/persisted.py); ``query`` may then be empty
    sha256: str | None = None


def operation_request(payload: object, what: str) -> Request | str:
    """The operation in a request body or WebSocket payload (``what`` names it), or what is wrong with it."""
    if not isinstance(payload, dict):
        return f"{what} must be a JSON object with a 'query'"
    sha256 = requested_hash(payload.get("extensions"))
    if isinstance(sha256, Problem):
        return sha256.message
    query = payload.get("query")
    if query is None and sha256 is not None:
        query = ""  # a hash-only request
    if not isinstance(query, str) or not (query.strip() or sha256 is not None):
        return f"{what} has no 'query' string"
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return "'variables' must be a JSON object"
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        return "'operationName' must be a string"
    return Request(query, variables, name, sha256)


@dataclass(frozen=True, slots=True)
class Admitted:
    """A parsed, validated document within every limit, and the type of the operation to run."""

    document: DocumentNode
    kind: OperationType


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an operation does not run: GraphQL errors (already formatted) and the HTTP status."""

    status: int
    errors: list[dict[str, Any]]
    retry_after_s: float | None = None


class Admission:
    def __init__(self, documents: DocumentCache, rate_limiter: RateLimiter | None = None,
                 persisted: PersistedDocuments | None = None) -> None:
        self.documents = documents
        self._limiter = rate_limiter if rate_limiter is not None and rate_limiter.enabled else None
        self.persisted: PersistedDocuments = persisted or PersistedQueriesOff()

    async def charge(self, tenant_id: UUID, cost: int = 1) -> Refusal | None:
        """Count ``cost`` operations (a batch's) against the tenant's rate budget, all or none; a
        refusal once it is spent, and for a batch that costs more than the whole bucket holds."""
        if self._limiter is None:
            return None
        burst = self._limiter.burst
        if cost > burst:  # it would never be allowed: waiting does not help, splitting does
            return Refusal(400, [{"message": f"a batch of {cost} operations costs {cost} rate-limit tokens, more "
                                             f"than this tenant's burst of {burst} (BOOKING_RATE_LIMIT_BURST): "
                                             f"send at most {burst} operations at once",
                                  "extensions": {"code": "RATE_LIMITED"}}])
        decision = await self._limiter.check(tenant_id, cost)
        if decision.allowed:
            return None
        seconds = max(1, -int(-decision.retry_after_s // 1))
        return Refusal(429, [{"message": f"rate limit of this tenant exceeded; retry in {seconds} s",
                              "extensions": {"code": "RATE_LIMITED",
                                             "retryAfterMs": max(1, -int(-decision.retry_after_s * 1000 // 1))}}],
                       retry_after_s=decision.retry_after_s)

    async def request(self, tenant_id: UUID, request: Request) -> Admitted | Refusal:
        """:meth:`document` for a request that may name a persisted document (web/persisted.py)."""
        query = await self.text(tenant_id, request)
        if isinstance(query, Refusal):
            return query
        admitted = self.document(query, request.variables, request.operation_name)
        if isinstance(admitted, Admitted):
            await self.remember(tenant_id, request)
        return admitted

    async def text(self, tenant_id: UUID, request: Request) -> str | Refusal:
        """The document's text: the request's own, or the persisted one its hash names."""
        query = await self.persisted.text(tenant_id, request.query, request.sha256)
        if isinstance(query, Problem):
            return Refusal(query.status, [{"message": query.message, "extensions": {"code": query.code}}])
        return query

    async def remember(self, tenant_id: UUID, request: Request) -> None:
        """Persist an admitted document sent with its hash (automatic persisted queries)."""
        if request.sha256 is not None and request.query:
            await self.persisted.admitted(tenant_id, request.query, request.sha256)

    def document(self, query: str, variables: Mapping[str, Any] | None,
                 operation_name: str | None) -> Admitted | Refusal:
        """The operation to run, or why it must not run (syntax, validation or a limit)."""
        prepared = self.documents.prepare(query)
        if prepared.document is None:
            return Refusal(200, [dict(e.formatted) for e in prepared.errors])
        kind = prepared.operation_type(operation_name)
        if kind is None:
            return Refusal(200, [{"message": "unknown operationName, or several operations and no operationName",
                                  "extensions": {"code": "BAD_REQUEST"}}])
        too_costly = self.documents.cost_error(prepared, operation_name, variables)
        if too_costly is not None:
            return Refusal(200, [dict(too_costly.formatted)])
        return Admitted(prepared.document, kind)

    @property
    def suggestions(self) -> bool:
        """Whether errors may say "Did you mean ...?": only where introspection shows the schema anyway."""
        return self.documents.limits.introspection
