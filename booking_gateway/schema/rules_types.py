"""The contract's types for resource rules and bookable slots (inputs, objects, the payload)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from booking_gateway.domain import schedule
from booking_gateway.domain.bookable_slots import BookableSlots as DomainSlots
from booking_gateway.domain.rules_cache import ResourceSchedule
from booking_gateway.schema.errors import MutationError
from booking_gateway.schema.ids import to_global_id
from booking_gateway.schema.types import Resource, TimeWindow


@strawberry.enum(description="A day of the week, in the resource's time zone.")
class Weekday(Enum):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


@strawberry.input(description="Wall-clock hours [start, end), HH:MM in the resource's time zone; end may be 24:00.")
class OpeningRangeInput:
    start: str
    end: str


@strawberry.input
class WeeklyHoursInput:
    day: Weekday
    ranges: list[OpeningRangeInput] = strawberry.field(description="Several ranges a day; none: closed.")


@strawberry.input(description="One date's hours instead of its weekday's: closed, or special hours.")
class DateOverrideInput:
    date: date
    closed: bool = False
    ranges: list[OpeningRangeInput] = strawberry.field(default_factory=list)


@strawberry.input
class ResourceRulesInput:
    weekly: list[WeeklyHoursInput] | None = strawberry.field(default=None, description=(
        "Opening hours per weekday; a weekday not listed is closed. Null: open around the clock."))
    overrides: list[DateOverrideInput] = strawberry.field(default_factory=list)
    buffer_before_minutes: int = strawberry.field(default=0, description=(
        "Kept free before each booking; two bookings whose buffered windows overlap conflict."))
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    max_horizon_days: int | None = None
    min_duration_minutes: int | None = None
    max_duration_minutes: int | None = None
    slot_step_minutes: int | None = strawberry.field(default=None, description=(
        "Bookings start at an opening range's start plus a multiple of this."))


@strawberry.input
class SetResourceRulesInput:
    client_mutation_id: str
    resource_id: strawberry.ID
    expected_version: int = strawberry.field(description=(
        "The rules version you saw (0 when none were set); else VERSION_CONFLICT."))
    rules: ResourceRulesInput


@strawberry.type
class OpeningRange:
    start: str
    end: str


@strawberry.type
class WeeklyHours:
    day: Weekday
    ranges: list[OpeningRange]


@strawberry.type
class DateOverride:
    date: date
    closed: bool
    ranges: list[OpeningRange]


@strawberry.type(description="A resource's booking rules at one version (version 0: none set, all open).")
class ResourceRules:
    version: int
    time_zone: str
    weekly: list[WeeklyHours] | None
    overrides: list[DateOverride]
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    max_horizon_days: int | None
    min_duration_minutes: int | None
    max_duration_minutes: int | None
    slot_step_minutes: int | None

    @classmethod
    def of(cls, found: ResourceSchedule) -> ResourceRules:
        spec = found.spec or schedule.RulesSpec()

        def ranges(rs: tuple[schedule.RangeSpec, ...]) -> list[OpeningRange]:
            return [OpeningRange(start=r.start, end=r.end) for r in rs]

        return cls(
            version=found.version, time_zone=found.time_zone,
            weekly=None if spec.weekly is None else [
                WeeklyHours(day=Weekday(d.day), ranges=ranges(d.ranges)) for d in spec.weekly],
            overrides=[DateOverride(date=o.date, closed=o.closed, ranges=ranges(o.ranges))
                       for o in spec.overrides],
            buffer_before_minutes=spec.buffer_before_minutes,
            buffer_after_minutes=spec.buffer_after_minutes,
            min_notice_minutes=spec.min_notice_minutes, max_horizon_days=spec.max_horizon_days,
            min_duration_minutes=spec.min_duration_minutes,
            max_duration_minutes=spec.max_duration_minutes, slot_step_minutes=spec.slot_step_minutes)


@strawberry.type(description="The starts a bookSlot of the duration would accept now, read at one version.")
class BookableSlots:
    resource_id: strawberry.ID
    window: TimeWindow
    duration_minutes: int
    starts: list[datetime] = strawberry.field(description="Sorted; each start + duration is bookable.")
    version: int = strawberry.field(description="The resource's availability version read.")
    rules_version: int

    @classmethod
    def of(cls, slots: DomainSlots) -> BookableSlots:
        return cls(resource_id=strawberry.ID(to_global_id("Resource", slots.resource_id)),
                   window=TimeWindow.of(slots.window),
                   duration_minutes=int(slots.duration.total_seconds() // 60),
                   starts=slots.starts, version=slots.availability_version,
                   rules_version=slots.rules_version)


@strawberry.type
class SetResourceRulesPayload:
    client_mutation_id: str
    resource: Resource | None
    rules: ResourceRules | None
    replayed: bool
    error: MutationError | None


def spec_of(data: ResourceRulesInput) -> schedule.RulesSpec:
    def ranges(rs: list[OpeningRangeInput]) -> tuple[schedule.RangeSpec, ...]:
        return tuple(schedule.RangeSpec(r.start, r.end) for r in rs)

    return schedule.RulesSpec(
        weekly=None if data.weekly is None else tuple(
            schedule.WeeklySpec(d.day.value, ranges(d.ranges)) for d in data.weekly),
        overrides=tuple(schedule.OverrideSpec(o.date, o.closed, ranges(o.ranges)) for o in data.overrides),
        buffer_before_minutes=data.buffer_before_minutes,
        buffer_after_minutes=data.buffer_after_minutes, min_notice_minutes=data.min_notice_minutes,
        max_horizon_days=data.max_horizon_days, min_duration_minutes=data.min_duration_minutes,
        max_duration_minutes=data.max_duration_minutes, slot_step_minutes=data.slot_step_minutes)
