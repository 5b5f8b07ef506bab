"""A resource's booking rules: opening hours, overrides, buffers, notice, horizon, durations, step.

``RulesSpec`` is what a client sends (wall-clock strings, minutes); :func:`validate` turns it
into :class:`ResourceRules` or raises ``ValidationFailed`` naming the field and the rule, e.g.
``rules.weekly[2].ranges[0].end: must be after start``. Stored as JSON (:func:`to_json`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from booking_gateway.domain.errors import ValidationFailed

MINUTES_PER_DAY = 24 * 60
#: Bounds that keep a rules document small and every figure meaningful.
MAX_RANGES_PER_DAY = 24
MAX_OVERRIDES = 366
MAX_BUFFER_MINUTES = 24 * 60
MAX_NOTICE_MINUTES = 366 * MINUTES_PER_DAY
MAX_HORIZON_DAYS = 3660
MAX_STEP_MINUTES = MINUTES_PER_DAY


@dataclass(frozen=True, slots=True)
class LocalRange:
    """``[start, end)`` in minutes after local midnight; ``end`` may be 1440 (24:00)."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RangeSpec:
    start: str
    end: str


@dataclass(frozen=True, slots=True)
class WeeklySpec:
    day: int  # 0 = Monday ... 6 = Sunday
    ranges: tuple[RangeSpec, ...]


@dataclass(frozen=True, slots=True)
class OverrideSpec:
    date: date
    closed: bool
    ranges: tuple[RangeSpec, ...]


@dataclass(frozen=True, slots=True)
class RulesSpec:
    """``weekly=None`` means open around the clock every day; an empty tuple means never open."""

    weekly: tuple[WeeklySpec, ...] | None = None
    overrides: tuple[OverrideSpec, ...] = ()
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    max_horizon_days: int | None = None
    min_duration_minutes: int | None = None
    max_duration_minutes: int | None = None
    slot_step_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class ResourceRules:
    """Validated rules. ``weekly`` has 7 entries (Monday first) or is None (always open)."""

    weekly: tuple[tuple[LocalRange, ...], ...] | None = None
    overrides: dict[date, tuple[LocalRange, ...]] = field(default_factory=dict)
    buffer_before: timedelta = timedelta()
    buffer_after: timedelta = timedelta()
    min_notice: timedelta = timedelta()
    max_horizon: timedelta | None = None
    min_duration: timedelta | None = None
    max_duration: timedelta | None = None
    step: timedelta | None = None

    def ranges_on(self, day: date) -> tuple[LocalRange, ...] | None:
        """The opening ranges of a local date; None when open all day without a schedule."""
        if day in self.overrides:
            return self.overrides[day]
        return None if self.weekly is None else self.weekly[day.weekday()]


#: The rules of a resource nobody set rules for: everything the limits allow.
NO_RULES = ResourceRules()


@dataclass(frozen=True, slots=True)
class VersionedRules:
    rules: ResourceRules
    version: int  # 0 = never set


def parse_clock(text: str, field_name: str) -> int:
    """``HH:MM`` (00:00 to 24:00) as minutes after midnight."""
    hours, sep, minutes = text.partition(":")
    if (not sep or len(hours) != 2 or len(minutes) != 2 or not hours.isdigit()
            or not minutes.isdigit() or int(minutes) > 59 or int(hours) * 60 + int(minutes) > MINUTES_PER_DAY):
        raise ValidationFailed(field_name, f"{field_name}: must be a wall-clock time HH:MM between "
                                           f"00:00 and 24:00, got {text!r}")
    return int(hours) * 60 + int(minutes)


def validate(spec: RulesSpec, prefix: str = "rules") -> ResourceRules:
    weekly = None if spec.weekly is None else _weekly(spec.weekly, f"{prefix}.weekly")
    overrides: dict[date, tuple[LocalRange, ...]] = {}
    if len(spec.overrides) > MAX_OVERRIDES:
        _fail(f"{prefix}.overrides", f"at most {MAX_OVERRIDES} overrides")
    for i, override in enumerate(spec.overrides):
        name = f"{prefix}.overrides[{i}]"
        if override.date in overrides:
            _fail(f"{name}.date", f"{override.date} is overridden twice")
        if override.closed and override.ranges:
            _fail(f"{name}.ranges", "must be empty when closed is true")
        if not override.closed and not override.ranges:
            _fail(f"{name}.ranges", "must list the opening hours, or set closed to true")
        overrides[override.date] = _ranges(override.ranges, f"{name}.ranges")
    min_d = _minutes(spec.min_duration_minutes, f"{prefix}.minDurationMinutes", 1, 31 * MINUTES_PER_DAY)
    max_d = _minutes(spec.max_duration_minutes, f"{prefix}.maxDurationMinutes", 1, 31 * MINUTES_PER_DAY)
    if min_d is not None and max_d is not None and max_d < min_d:
        _fail(f"{prefix}.maxDurationMinutes", "must be at least minDurationMinutes")
    horizon = _bounded(spec.max_horizon_days, f"{prefix}.maxHorizonDays", 1, MAX_HORIZON_DAYS)
    return ResourceRules(
        weekly=weekly, overrides=overrides,
        buffer_before=_minutes(spec.buffer_before_minutes, f"{prefix}.bufferBeforeMinutes", 0,
                               MAX_BUFFER_MINUTES) or timedelta(),
        buffer_after=_minutes(spec.buffer_after_minutes, f"{prefix}.bufferAfterMinutes", 0,
                              MAX_BUFFER_MINUTES) or timedelta(),
        min_notice=_minutes(spec.min_notice_minutes, f"{prefix}.minNoticeMinutes", 0,
                            MAX_NOTICE_MINUTES) or timedelta(),
        max_horizon=None if horizon is None else timedelta(days=horizon),
        min_duration=min_d, max_duration=max_d,
        step=_minutes(spec.slot_step_minutes, f"{prefix}.slotStepMinutes", 1, MAX_STEP_MINUTES))


def _weekly(days: tuple[WeeklySpec, ...], name: str) -> tuple[tuple[LocalRange, ...], ...]:
    week: list[tuple[LocalRange, ...] | None] = [None] * 7
    for i, day in enumerate(days):
        if not 0 <= day.day <= 6:
            _fail(f"{name}[{i}].day", "must be a weekday (0 = Monday ... 6 = Sunday)")
        if week[day.day] is not None:
            _fail(f"{name}[{i}].day", "the same weekday is listed twice; put all its ranges in one entry")
        week[day.day] = _ranges(day.ranges, f"{name}[{i}].ranges")
    return tuple(d or () for d in week)


def _ranges(specs: tuple[RangeSpec, ...], name: str) -> tuple[LocalRange, ...]:
    if len(specs) > MAX_RANGES_PER_DAY:
        _fail(name, f"at most {MAX_RANGES_PER_DAY} ranges a day")
    ranges = []
    for j, spec in enumerate(specs):
        start = parse_clock(spec.start, f"{name}[{j}].start")
        end = parse_clock(spec.end, f"{name}[{j}].end")
        if end <= start:
            _fail(f"{name}[{j}].end", "must be after start")
        ranges.append(LocalRange(start, end))
    ranges.sort(key=lambda r: r.start)
    for j in range(1, len(ranges)):
        if ranges[j].start < ranges[j - 1].end:
            _fail(name, "ranges of one day must not overlap")
    return tuple(ranges)


def _bounded(value: int | None, name: str, low: int, high: int) -> int | None:
    if value is not None and not low <= value <= high:
        _fail(name, f"must be between {low} and {high}")
    return value


def _minutes(value: int | None, name: str, low: int, high: int) -> timedelta | None:
    bounded = _bounded(value, name, low, high)
    return None if bounded is None else timedelta(minutes=bounded)


def _fail(name: str, rule: str) -> None:
    raise ValidationFailed(name, f"{name}: {rule}")


# --- storage: the spec as JSON (what the client sent, so the read side can show it back) ------


def to_json(spec: RulesSpec) -> str:
    def ranges(rs: tuple[RangeSpec, ...]) -> list[list[str]]:
        return [[r.start, r.end] for r in rs]

    return json.dumps({
        "weekly": None if spec.weekly is None else [[d.day, ranges(d.ranges)] for d in spec.weekly],
        "overrides": [[o.date.isoformat(), o.closed, ranges(o.ranges)] for o in spec.overrides],
        "bufferBefore": spec.buffer_before_minutes, "bufferAfter": spec.buffer_after_minutes,
        "minNotice": spec.min_notice_minutes, "maxHorizonDays": spec.max_horizon_days,
        "minDuration": spec.min_duration_minutes, "maxDuration": spec.max_duration_minutes,
        "step": spec.slot_step_minutes}, sort_keys=True, separators=(",", ":"))


def from_json(text: str) -> RulesSpec:
    raw: dict[str, Any] = json.loads(text)

    def ranges(rs: list[list[str]]) -> tuple[RangeSpec, ...]:
        return tuple(RangeSpec(a, b) for a, b in rs)

    weekly = raw["weekly"]
    return RulesSpec(
        weekly=None if weekly is None else tuple(WeeklySpec(d, ranges(rs)) for d, rs in weekly),
        overrides=tuple(OverrideSpec(date.fromisoformat(d), closed, ranges(rs))
                        for d, closed, rs in raw["overrides"]),
        buffer_before_minutes=raw["bufferBefore"], buffer_after_minutes=raw["bufferAfter"],
        min_notice_minutes=raw["minNotice"], max_horizon_days=raw["maxHorizonDays"],
        min_duration_minutes=raw["minDuration"], max_duration_minutes=raw["maxDuration"],
        slot_step_minutes=raw["step"])
