"""Read use cases: availability of resources and pages of bookings, scoped to one tenant."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from booking_gateway.domain import rules
from booking_gateway.domain.errors import NotFound, ValidationFailed
from booking_gateway.domain.model import Availability
from booking_gateway.domain.outcome import Deps
from booking_gateway.domain.time_window import TimeWindow


async def availability(deps: Deps, tenant_id: UUID, resource_ids: Sequence[UUID],
                       window: TimeWindow) -> list[Availability]:
    """Free/busy per resource, in the order asked; raises NotFound for an id not of the tenant."""
    rules.check_availability_window(window, deps.limits)
    unique = list(dict.fromkeys(resource_ids))
    if len(unique) > deps.limits.max_resources_per_query:
        raise ValidationFailed(
            "resourceIds", f"{len(unique)} resources asked; the maximum per query is "
            f"{deps.limits.max_resources_per_query}")
    found = await deps.store.read_availability(tenant_id, unique, window)
    answer = []
    for resource_id in resource_ids:
        if resource_id not in found:
            raise NotFound("Resource", resource_id)
        booked, version = found[resource_id]
        answer.append(Availability.from_bookings(resource_id, window, booked, version))
    return answer
