"""The per-request context every resolver reads: the caller's tenant and the use cases' ports."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    resource_loader: DataLoader[UUID, Resource | None] = field(init=False)

    def __post_init__(self) -> None:
        self.resource_loader = DataLoader(load_fn=self._load_resources)

    async def _load_resources(self, ids: list[UUID]) -> list[Resource | None]:
        found = {r.id: r for r in await self.deps.store.get_resources(self.tenant_id, ids)}
        return [found.get(i) for i in ids]
