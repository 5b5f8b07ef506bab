"""The per-request context every resolver reads: the caller's tenant and the use cases' ports."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from uuid import UUID

from strawberry.dataloader import DataLoader

from booking_gateway.domain.model import Resource
from booking_gateway.domain.outcome import Deps


@dataclass
class Context:
    tenant_id: UUID
    deps: Deps
    request_id: str = ""
    #: Set by the HTTP/WebSocket layer; resolvers never touch it.
    request: Any = None

    @cached_property
    def resource_loader(self) -> DataLoader[UUID, Resource | None]:
        """Batches the resource lookups of one request (made on first use: most need none)."""
        return DataLoader(load_fn=self._load_resources)

    async def _load_resources(self, ids: list[UUID]) -> list[Resource | None]:
        found = {r.id: r for r in await self.deps.store.get_resources(self.tenant_id, ids)}
        return [found.get(i) for i in ids]
