"""bookableSlots: the starts a bookSlot of a duration would accept right now, per resource.

One statement reads every resource's rules, versions and blocked windows (one snapshot, so
each resource at one version); the starts are computed here, in pure code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from uuid import UUID

from booking_gateway.domain.errors import NotFound, ValidationFailed
from booking_gateway.domain.outcome import Deps
from booking_gateway.domain.rules import Limits
from booking_gateway.domain.rules_cache import ResourceSchedule, compiled, parse
from booking_gateway.domain.schedule import MAX_BUFFER_MINUTES
from booking_gateway.domain.slots import DEFAULT_GRID, Schedule, bookable_starts_us
from booking_gateway.domain.time_window import TimeWindow

#: The longest window slots are computed for (a week is the common ask; a month the most).
MAX_SLOTS_WINDOW = timedelta(days=31)
#: The most candidate starts one query may ask for (resources x window / step): a bound on its
#: CPU and on the answer's size (50 resources x 1 week on 30-minute steps is 16,800).
MAX_CANDIDATES = 200_000
_MAX_BUFFER = timedelta(minutes=MAX_BUFFER_MINUTES)


@dataclass(frozen=True, slots=True)
class BookableSlots:
    resource_id: UUID
    window: TimeWindow
    duration: timedelta
    starts: list[datetime]
    availability_version: int
    rules_version: int

    @property
    def version(self) -> int:
        """The availability version read: what live events of slots are ordered by."""
        return self.availability_version


async def bookable_slots(deps: Deps, tenant_id: UUID, resource_ids: Sequence[UUID],
                         window: TimeWindow, duration_minutes: int,
                         step_minutes: int | None) -> list[BookableSlots]:
    """Per resource in the order asked; raises NotFound for an id not of the tenant.

    ``step_minutes`` defaults to the resource's slot step, else 15 minutes; starts lie on a
    grid of that step from each opening range's start.
    """
    check_arguments(deps.limits, window, duration_minutes, step_minutes)
    duration = timedelta(minutes=duration_minutes)
    unique = list(dict.fromkeys(resource_ids))
    if len(unique) > deps.limits.max_resources_per_query:
        raise ValidationFailed("resourceIds", f"resourceIds: at most "
                               f"{deps.limits.max_resources_per_query} resources per query")
    # every blocked window a candidate's blocked window (buffers included) could overlap
    span = TimeWindow.unchecked(window.start - _MAX_BUFFER, window.end + duration + _MAX_BUFFER)
    found = await deps.store.read_slot_inputs(tenant_id, unique, span)
    now = deps.clock.now()
    plans = []
    for resource_id in resource_ids:
        if resource_id not in found:
            raise NotFound("Resource", resource_id)
        schedule = compiled(tenant_id, resource_id, found[resource_id].rules)
        step = timedelta(minutes=step_minutes) if step_minutes else schedule.rules.step or DEFAULT_GRID
        plans.append((resource_id, schedule, step))
    if sum(window.duration // step for _, _, step in plans) > MAX_CANDIDATES:
        raise ValidationFailed("stepMinutes", f"stepMinutes: {len(plans)} resources over this window on "
                               f"this step are more than {MAX_CANDIDATES:,} candidate starts; use a "
                               "longer step, a shorter window or fewer resources")
    answer = []
    for resource_id, schedule, step in plans:
        inputs = found[resource_id]
        opening = _opening(schedule, TimeWindow.unchecked(window.start, window.end + duration))
        starts = bookable_starts_us(opening, window, duration, step, now, inputs.blocked)
        answer.append(BookableSlots(resource_id, window, duration, starts,
                                    inputs.availability_version, inputs.rules.version))
    return answer


def check_arguments(limits: Limits, window: TimeWindow, duration_minutes: int,
                    step_minutes: int | None) -> None:
    """The checks that need no read: shared with the subscription, which makes them before
    it listens."""
    if duration_minutes < 1 or timedelta(minutes=duration_minutes) > limits.max_booking:
        raise ValidationFailed("durationMinutes", "durationMinutes: must be between 1 and "
                               f"{int(limits.max_booking.total_seconds() // 60)}")
    if step_minutes is not None and not 1 <= step_minutes <= 24 * 60:
        raise ValidationFailed("stepMinutes", "stepMinutes: must be between 1 and 1440")
    if window.duration > MAX_SLOTS_WINDOW:
        raise ValidationFailed("window", f"window: spans more than {MAX_SLOTS_WINDOW.days} days")


def _opening(schedule: ResourceSchedule, span: TimeWindow) -> Schedule:
    """Opening hours are the same for resources with the same rules and zone: computed once."""
    return _opening_of(schedule.document, schedule.time_zone, span)


@lru_cache(maxsize=256)
def _opening_of(document: str | None, time_zone: str, span: TimeWindow) -> Schedule:
    return Schedule.over(parse(document)[1], time_zone, span)
