"""Compiled rules per resource and version, cached per process (see :mod:`resource_rules`)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from uuid import UUID

from booking_gateway.domain import schedule
from booking_gateway.domain.errors import OutsideSchedule
from booking_gateway.domain.ports import RulesRecord
from booking_gateway.domain.schedule import ResourceRules, RulesSpec
from booking_gateway.domain.slots import Schedule, ScheduleReason, blocked, nearest_allowed
from booking_gateway.domain.time_window import TimeWindow

#: Resources whose compiled rules one process keeps.
CACHE_SIZE = 10_000

_DETAIL = {
    ScheduleReason.CLOSED: "the window is not inside the opening hours",
    ScheduleReason.TOO_SOON: "it starts sooner than the minimum notice",
    ScheduleReason.TOO_FAR: "it starts later than the maximum horizon",
    ScheduleReason.TOO_SHORT: "it is shorter than the minimum duration",
    ScheduleReason.TOO_LONG: "it is longer than the maximum duration",
    ScheduleReason.OFF_STEP: "it does not start on the slot step",
}


@dataclass(frozen=True, slots=True)
class ResourceSchedule:
    """A resource's rules at one version, ready to check windows against."""

    tenant_id: UUID
    resource_id: UUID
    time_zone: str
    version: int
    spec: RulesSpec | None
    rules: ResourceRules
    #: the stored JSON (None: no rules), which compiles to ``rules``
    document: str | None = None

    def blocked(self, window: TimeWindow) -> TimeWindow:
        return blocked(self.rules, window)

    def refusal(self, window: TimeWindow, now: datetime) -> OutsideSchedule | None:
        if self.spec is None:
            return None
        reason = Schedule.over(self.rules, self.time_zone, window).refusal(window, now)
        if reason is None:
            return None
        nearest = nearest_allowed(self.rules, self.time_zone, window, now)
        return OutsideSchedule(reason.value, _DETAIL[reason], nearest)


def compiled(tenant_id: UUID, resource_id: UUID, record: RulesRecord) -> ResourceSchedule:
    spec, rules = parse(record.document)
    return ResourceSchedule(tenant_id, resource_id, record.time_zone, record.version, spec, rules,
                            record.document)


@lru_cache(maxsize=1024)
def parse(document: str | None) -> tuple[RulesSpec | None, ResourceRules]:
    if document is None:
        return None, schedule.NO_RULES
    spec = schedule.from_json(document)
    return spec, schedule.validate(spec)


class RulesCache:
    """Compiled rules per (tenant, resource): a hit never crosses tenants. Newest version wins;
    bounded (least recently used out)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._entries: OrderedDict[tuple[UUID, UUID], ResourceSchedule] = OrderedDict()
        self._size = size

    def get(self, tenant_id: UUID, resource_id: UUID) -> ResourceSchedule | None:
        entry = self._entries.get((tenant_id, resource_id))
        if entry is not None:
            self._entries.move_to_end((tenant_id, resource_id))
        return entry

    def put(self, entry: ResourceSchedule) -> ResourceSchedule:
        key = (entry.tenant_id, entry.resource_id)
        known = self._entries.get(key)
        if known is None or known.version <= entry.version:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return entry

    def forget(self, tenant_id: UUID, resource_id: UUID) -> None:
        self._entries.pop((tenant_id, resource_id), None)
