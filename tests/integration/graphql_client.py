"""Executing GraphQL documents through the real schema with a real context (no HTTP)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from booking_gateway.domain.outcome import Deps
from booking_gateway.resolvers.context import Context
from booking_gateway.schema.build import build_schema

SCHEMA = build_schema()

CREATE_RESOURCE = """
mutation($input: CreateResourceInput!) {
  createResource(input: $input) {
    clientMutationId replayed
    resource { id name timeZone }
    error { code message ... on ValidationFailed { field } }
  }
}"""

BOOKING_FIELDS = """
    clientMutationId replayed
    booking { id start end status version reference note resource { id name } }
    error {
      __typename code message
      ... on SlotUnavailable { conflicts { start end } }
      ... on ValidationFailed { field }
      ... on Contended { retryAfterMs }
      ... on VersionConflict { currentVersion }
    }
"""

BOOK = f"mutation($input: BookSlotInput!) {{ bookSlot(input: $input) {{ {BOOKING_FIELDS} }} }}"
CANCEL = f"mutation($input: CancelBookingInput!) {{ cancelBooking(input: $input) {{ {BOOKING_FIELDS} }} }}"
RESCHEDULE = (f"mutation($input: RescheduleBookingInput!) "
              f"{{ rescheduleBooking(input: $input) {{ {BOOKING_FIELDS} }} }}")

AVAILABILITY = """
query($ids: [ID!]!, $window: TimeWindowInput!) {
  availability(resourceIds: $ids, window: $window) {
    resourceId version window { start end } busy { start end } free { start end }
  }
}"""


class Client:
    def __init__(self, deps: Deps, tenant_id: UUID) -> None:
        self.deps = deps
        self.tenant_id = tenant_id

    async def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        result = await SCHEMA.execute(query, variable_values=variables,
                                      context_value=Context(self.tenant_id, self.deps))
        if result.errors:
            raise AssertionError(f"GraphQL errors: {[e.formatted for e in result.errors]}")
        assert result.data is not None
        return result.data

    async def errors(self, query: str, **variables: Any) -> list[dict[str, Any]]:
        result = await SCHEMA.execute(query, variable_values=variables,
                                      context_value=Context(self.tenant_id, self.deps))
        assert result.errors, "expected GraphQL errors"
        return [e.formatted for e in result.errors]

    async def resource(self, name: str = "Room A", time_zone: str = "UTC") -> str:
        data = await self.execute(CREATE_RESOURCE, input={
            "clientMutationId": f"res-{name}-{id(self)}-{time_zone}", "name": name, "timeZone": time_zone})
        payload = data["createResource"]
        assert payload["error"] is None, payload
        return str(payload["resource"]["id"])

    async def book(self, resource_id: str, start: str, end: str, cmid: str, **extra: Any) -> dict[str, Any]:
        data = await self.execute(BOOK, input={"clientMutationId": cmid, "resourceId": resource_id,
                                               "start": start, "end": end, **extra})
        return dict(data["bookSlot"])
