"""Rules, opening hours (DST with real zones), the verdict on a booking, bookable starts."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from booking_gateway.domain import schedule
from booking_gateway.domain.errors import ValidationFailed
from booking_gateway.domain.opening_hours import opening_ranges, zone
from booking_gateway.domain.schedule import OverrideSpec, RangeSpec, RulesSpec, WeeklySpec
from booking_gateway.domain.slots import (
    Schedule,
    ScheduleReason,
    blocked,
    bookable_starts,
    check,
    nearest_allowed,
)
from booking_gateway.domain.time_window import TimeWindow

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def nine_to_five(**extra: object) -> schedule.ResourceRules:
    week = tuple(WeeklySpec(d, (RangeSpec("09:00", "17:00"),)) for d in range(7))
    return schedule.validate(RulesSpec(weekly=week, **extra))  # type: ignore[arg-type]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def w(start: datetime, minutes: int) -> TimeWindow:
    return TimeWindow(start, start + timedelta(minutes=minutes))


def day_ranges(rules: schedule.ResourceRules, tz: str, day: date) -> list[TimeWindow]:
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    span = TimeWindow(noon - timedelta(days=1), noon + timedelta(days=1))
    return [r for r in opening_ranges(rules, tz, span) if r.start.astimezone(zone(tz)).date() == day]


# --- validation names the field and the rule ----------------------------------------------------


def test_an_end_before_its_start_names_the_range() -> None:
    spec = RulesSpec(weekly=(WeeklySpec(0, ()), WeeklySpec(1, ()),
                             WeeklySpec(2, (RangeSpec("10:00", "09:00"),))))
    with pytest.raises(ValidationFailed) as err:
        schedule.validate(spec)
    assert err.value.field == "rules.weekly[2].ranges[0].end"
    assert err.value.message == "rules.weekly[2].ranges[0].end: must be after start"


@pytest.mark.parametrize(("spec", "field"), [
    (RulesSpec(weekly=(WeeklySpec(0, (RangeSpec("9:00", "17:00"),)),)), "rules.weekly[0].ranges[0].start"),
    (RulesSpec(weekly=(WeeklySpec(0, (RangeSpec("09:00", "24:01"),)),)), "rules.weekly[0].ranges[0].end"),
    (RulesSpec(weekly=(WeeklySpec(7, ()),)), "rules.weekly[0].day"),
    (RulesSpec(weekly=(WeeklySpec(1, ()), WeeklySpec(1, ()))), "rules.weekly[1].day"),
    (RulesSpec(weekly=(WeeklySpec(0, (RangeSpec("09:00", "12:00"), RangeSpec("11:00", "13:00"))),)),
     "rules.weekly[0].ranges"),
    (RulesSpec(overrides=(OverrideSpec(date(2026, 1, 1), True, (RangeSpec("09:00", "10:00"),)),)),
     "rules.overrides[0].ranges"),
    (RulesSpec(overrides=(OverrideSpec(date(2026, 1, 1), False, ()),)), "rules.overrides[0].ranges"),
    (RulesSpec(buffer_before_minutes=-1),
     "rules.bufferBeforeMinutes"),
    (RulesSpec(min_duration_minutes=60, max_duration_minutes=30), "rules.maxDurationMinutes"),
    (RulesSpec(slot_step_minutes=0), "rules.slotStepMinutes"),
    (RulesSpec(max_horizon_days=0), "rules.maxHorizonDays"),
])
def test_invalid_rules_name_the_field(spec: RulesSpec, field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        schedule.validate(spec)
    assert err.value.field == field
    assert err.value.message.startswith(f"{field}: ")


def test_rules_survive_their_json_form() -> None:
    spec = RulesSpec(weekly=(WeeklySpec(0, (RangeSpec("09:00", "12:00"), RangeSpec("13:00", "24:00"))),),
                     overrides=(OverrideSpec(date(2026, 12, 24), True, ()),),
                     buffer_before_minutes=5, buffer_after_minutes=10, min_notice_minutes=60,
                     max_horizon_days=90, min_duration_minutes=30, max_duration_minutes=120,
                     slot_step_minutes=15)
    assert schedule.from_json(schedule.to_json(spec)) == spec


# --- opening hours across DST changes (real zones) ---------------------------------------------


@pytest.mark.parametrize(("tz", "spring", "autumn"), [
    ("Europe/Berlin", date(2026, 3, 29), date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
])
def test_a_nine_to_five_day_lasts_8_hours_on_both_sides_of_a_change(tz: str, spring: date,
                                                                   autumn: date) -> None:
    rules = nine_to_five()
    for day in (spring - timedelta(days=1), spring, autumn - timedelta(days=1), autumn):
        (only,) = day_ranges(rules, tz, day)
        assert only.duration == timedelta(hours=8), day


def test_berlin_nine_oclock_moves_by_an_hour_in_utc_across_spring_forward() -> None:
    rules = nine_to_five()
    assert day_ranges(rules, "Europe/Berlin", date(2026, 3, 28))[0].start == utc(2026, 3, 28, 8)
    assert day_ranges(rules, "Europe/Berlin", date(2026, 3, 29))[0].start == utc(2026, 3, 29, 7)


def one_day(day: date, start: str, end: str) -> schedule.ResourceRules:
    return schedule.validate(RulesSpec(weekly=(), overrides=(OverrideSpec(day, False, (RangeSpec(start, end),)),)))


@pytest.mark.parametrize(("tz", "day"), [("Europe/Berlin", date(2026, 3, 29)),
                                         ("America/New_York", date(2026, 3, 8))])
def test_a_range_inside_the_skipped_hour_is_empty(tz: str, day: date) -> None:
    assert day_ranges(one_day(day, "02:00", "03:00"), tz, day) == []
    assert day_ranges(one_day(day, "02:15", "02:45"), tz, day) == []


def test_a_range_ending_in_the_skipped_hour_ends_at_the_change() -> None:
    # Berlin springs forward at 01:00Z (02:00 CET -> 03:00 CEST)
    (only,) = day_ranges(one_day(date(2026, 3, 29), "01:00", "02:30"), "Europe/Berlin", date(2026, 3, 29))
    assert only == TimeWindow(utc(2026, 3, 29, 0), utc(2026, 3, 29, 1))
    (later,) = day_ranges(one_day(date(2026, 3, 29), "02:30", "04:00"), "Europe/Berlin", date(2026, 3, 29))
    assert later == TimeWindow(utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))


def test_the_repeated_hour_is_open_twice() -> None:
    # New York falls back at 06:00Z (02:00 EDT -> 01:00 EST): 01:00-02:00 happens twice
    (only,) = day_ranges(one_day(date(2026, 11, 1), "00:30", "01:30"), "America/New_York", date(2026, 11, 1))
    assert only == TimeWindow(utc(2026, 11, 1, 4, 30), utc(2026, 11, 1, 6, 30))
    assert only.duration == timedelta(hours=2)
    (all_day,) = day_ranges(one_day(date(2026, 11, 1), "00:00", "24:00"), "America/New_York", date(2026, 11, 1))
    assert all_day.duration == timedelta(hours=25)


# --- the verdict on one booking ----------------------------------------------------------------


def test_inside_opening_hours_is_allowed_outside_is_closed() -> None:
    rules = nine_to_five()
    assert check(rules, "UTC", w(utc(2026, 2, 2, 9), 60), NOW) is None
    assert check(rules, "UTC", w(utc(2026, 2, 2, 16, 30), 60), NOW) is ScheduleReason.CLOSED
    assert check(rules, "UTC", w(utc(2026, 2, 2, 8, 30), 60), NOW) is ScheduleReason.CLOSED


def test_a_closed_override_closes_the_day_and_special_hours_replace_it() -> None:
    rules = schedule.validate(RulesSpec(
        weekly=tuple(WeeklySpec(d, (RangeSpec("09:00", "17:00"),)) for d in range(7)),
        overrides=(OverrideSpec(date(2026, 12, 24), True, ()),
                   OverrideSpec(date(2026, 12, 31), False, (RangeSpec("10:00", "12:00"),)))))
    assert check(rules, "UTC", w(utc(2026, 12, 24, 10), 60), NOW) is ScheduleReason.CLOSED
    assert check(rules, "UTC", w(utc(2026, 12, 31, 9), 60), NOW) is ScheduleReason.CLOSED
    assert check(rules, "UTC", w(utc(2026, 12, 31, 11), 60), NOW) is None


def test_several_ranges_a_day_and_no_booking_across_the_lunch_break() -> None:
    rules = schedule.validate(RulesSpec(weekly=tuple(
        WeeklySpec(d, (RangeSpec("09:00", "12:00"), RangeSpec("13:00", "17:00"))) for d in range(7))))
    assert check(rules, "UTC", w(utc(2026, 2, 2, 11), 60), NOW) is None
    assert check(rules, "UTC", w(utc(2026, 2, 2, 11), 90), NOW) is ScheduleReason.CLOSED
    assert check(rules, "UTC", w(utc(2026, 2, 2, 13), 240), NOW) is None


def test_notice_horizon_durations_and_step() -> None:
    rules = nine_to_five(min_notice_minutes=24 * 60, max_horizon_days=30, min_duration_minutes=30,
                         max_duration_minutes=120, slot_step_minutes=30)
    now = utc(2026, 2, 2, 9)
    assert check(rules, "UTC", w(utc(2026, 2, 3, 9), 60), now) is None
    assert check(rules, "UTC", w(utc(2026, 2, 2, 15), 60), now) is ScheduleReason.TOO_SOON
    assert check(rules, "UTC", w(utc(2026, 3, 10, 9), 60), now) is ScheduleReason.TOO_FAR
    assert check(rules, "UTC", w(utc(2026, 2, 3, 9), 15), now) is ScheduleReason.TOO_SHORT
    assert check(rules, "UTC", w(utc(2026, 2, 3, 9), 150), now) is ScheduleReason.TOO_LONG
    assert check(rules, "UTC", w(utc(2026, 2, 3, 9, 10), 60), now) is ScheduleReason.OFF_STEP


def test_a_booking_runs_across_midnight_when_both_days_are_open() -> None:
    rules = schedule.validate(RulesSpec(weekly=tuple(
        WeeklySpec(d, (RangeSpec("20:00", "24:00"), RangeSpec("00:00", "02:00"))) for d in range(7))))
    assert check(rules, "UTC", w(utc(2026, 2, 2, 23), 120), NOW) is None
    assert check(rules, "UTC", w(utc(2026, 2, 2, 23), 240), NOW) is ScheduleReason.CLOSED


def test_no_rules_allow_everything() -> None:
    assert check(schedule.NO_RULES, "Europe/Berlin", w(utc(2026, 3, 29, 0, 7), 13), NOW) is None


def test_buffers_widen_the_blocked_window() -> None:
    rules = nine_to_five(buffer_before_minutes=10, buffer_after_minutes=15)
    assert blocked(rules, w(utc(2026, 2, 2, 9), 60)) == TimeWindow(utc(2026, 2, 2, 8, 50),
                                                                   utc(2026, 2, 2, 10, 15))
    assert blocked(schedule.NO_RULES, w(utc(2026, 2, 2, 9), 60)) == w(utc(2026, 2, 2, 9), 60)


def test_nearest_allowed_windows_are_allowed_and_near() -> None:
    rules = nine_to_five(slot_step_minutes=30)
    near = nearest_allowed(rules, "UTC", w(utc(2026, 2, 2, 17), 60), NOW)
    assert near == [w(utc(2026, 2, 2, 15), 60), w(utc(2026, 2, 2, 15, 30), 60), w(utc(2026, 2, 2, 16), 60)]
    closed_day = nearest_allowed(rules, "UTC", w(utc(2026, 2, 2, 2), 60), NOW)
    assert closed_day == [w(utc(2026, 2, 2, 9), 60), w(utc(2026, 2, 2, 9, 30), 60), w(utc(2026, 2, 2, 10), 60)]

    assert all(check(rules, "UTC", n, NOW) is None for n in near)


# --- bookable starts ----------------------------------------------------------------------------


def test_bookable_starts_follow_hours_step_and_buffers() -> None:
    rules = nine_to_five(slot_step_minutes=30, buffer_after_minutes=30)
    day = TimeWindow(utc(2026, 2, 2), utc(2026, 2, 3))
    busy = [blocked(rules, w(utc(2026, 2, 2, 12), 60))]  # blocks [12:00, 13:30)
    starts = bookable_starts(rules, "UTC", day, timedelta(hours=1), timedelta(minutes=30), NOW, busy)
    hours = [(s.hour, s.minute) for s in starts]
    assert (hours[0], hours[-1]) == ((9, 0), (16, 0))
    # a start at 10:30 blocks until 12:00: free; 11:00 blocks until 12:30: taken; 13:30 is free
    assert [(h, m) in hours for h, m in ((10, 30), (11, 0), (13, 0), (13, 30))] == [True, False, False, True]
    for s in starts:
        assert check(rules, "UTC", w(s, 60), NOW) is None
        assert not blocked(rules, w(s, 60)).overlaps(busy[0])


def test_bookable_starts_respect_dst_in_the_resource_zone() -> None:
    rules = nine_to_five(slot_step_minutes=60)
    week = TimeWindow(utc(2026, 3, 28), utc(2026, 3, 30))
    starts = bookable_starts(rules, "Europe/Berlin", week, timedelta(hours=1), timedelta(hours=1), NOW, [])
    assert len(starts) == 16  # 8 a day, both days
    assert (starts[0], starts[8]) == (utc(2026, 3, 28, 8), utc(2026, 3, 29, 7))


def reference_starts(rules: schedule.ResourceRules, tz: str, window: TimeWindow, duration: timedelta,
                     step: timedelta, now: datetime, busy: list[TimeWindow]) -> list[datetime]:
    """The definition, candidate by candidate: what bookable_starts computes faster."""
    sched = Schedule.over(rules, tz, TimeWindow(window.start, window.end + duration))
    found = []
    for t in sched.starts(window, step):
        candidate = TimeWindow(t, t + duration)
        if sched.refusal(candidate, now) is None and not any(blocked(rules, candidate).overlaps(b) for b in busy):
            found.append(t)
    return sorted(found)


@pytest.mark.parametrize("seed", range(40))
def test_bookable_starts_equal_the_definition(seed: int) -> None:
    rng = random.Random(seed)
    tz = rng.choice(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
    def clock() -> str:
        return f"{rng.randrange(0, 24):02}:{rng.choice([0, 15, 30, 45, 10]):02}"

    weekly = tuple(WeeklySpec(d, tuple(sorted({RangeSpec(*sorted((a, b))) for a, b in
                                               ((clock(), clock()) for _ in range(rng.randrange(0, 3)))
                                               if a != b}, key=lambda r: r.start)[:1]))
                   for d in range(7))
    spec = RulesSpec(
        weekly=rng.choice([None, weekly]), buffer_before_minutes=rng.choice([0, 5, 20]),
        buffer_after_minutes=rng.choice([0, 10, 45]), min_notice_minutes=rng.choice([0, 600]),
        max_horizon_days=rng.choice([None, 3]), slot_step_minutes=rng.choice([None, 15, 30, 60]),
        min_duration_minutes=rng.choice([None, 30]), max_duration_minutes=rng.choice([None, 120]))
    rules = schedule.validate(spec)
    start = utc(2026, rng.choice([3, 10, 11]), rng.randrange(1, 28), rng.randrange(0, 24))
    window = TimeWindow(start, start + timedelta(days=rng.randrange(1, 5)))
    now = start - timedelta(hours=rng.randrange(0, 48))
    busy = [blocked(rules, w(start + timedelta(minutes=rng.randrange(0, 5 * 1440)), rng.randrange(5, 240)))
            for _ in range(rng.randrange(0, 12))]
    duration = timedelta(minutes=rng.choice([15, 30, 60, 90]))
    step = timedelta(minutes=rng.choice([5, 15, 30]))
    assert bookable_starts(rules, tz, window, duration, step, now, busy) == \
        reference_starts(rules, tz, window, duration, step, now, busy)
