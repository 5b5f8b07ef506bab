from datetime import timedelta

import pytest

from booking_gateway.domain import rules
from booking_gateway.domain.errors import ValidationFailed
from booking_gateway.domain.rules import Limits
from booking_gateway.domain.time_window import TimeWindow

from .fakes import T0

DEFAULTS = Limits()


def lasting(span: timedelta) -> TimeWindow:
    return TimeWindow(T0, T0 + span)


def test_default_limits() -> None:
    assert DEFAULTS.max_booking == timedelta(days=31)
    assert DEFAULTS.max_availability_window == timedelta(days=366)
    assert DEFAULTS.max_page_size == 100
    assert DEFAULTS.max_resources_per_query == 100


def test_a_booking_of_exactly_31_days_is_allowed() -> None:
    rules.check_booking_window(lasting(timedelta(days=31)), DEFAULTS)


def test_a_booking_longer_than_31_days_is_refused_naming_end() -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.check_booking_window(lasting(timedelta(days=31, microseconds=1)), DEFAULTS)
    assert err.value.field == "end"
    assert "maximum of 31 days" in err.value.message


def test_the_booking_limit_is_configurable() -> None:
    short = Limits(max_booking=timedelta(hours=4))
    rules.check_booking_window(lasting(timedelta(hours=4)), short)
    with pytest.raises(ValidationFailed) as err:
        rules.check_booking_window(lasting(timedelta(hours=5)), short, field="input.end")
    assert err.value.field == "input.end"
    assert "5 hours" in err.value.message
    assert "4 hours" in err.value.message


def test_an_availability_window_of_366_days_is_allowed() -> None:
    rules.check_availability_window(lasting(timedelta(days=366)), DEFAULTS)


def test_a_longer_availability_window_is_refused_naming_window() -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.check_availability_window(lasting(timedelta(days=366, seconds=1)), DEFAULTS)
    assert err.value.field == "window"


@pytest.mark.parametrize("name", [
    "UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "Asia/Kolkata",
])
def test_iana_time_zones_are_accepted(name: str) -> None:
    rules.check_time_zone(name)


@pytest.mark.parametrize("name", [
    "",
    "Mars/Olympus_Mons",
    "Europe",
    "Europe/",
    "Europe/Berlin/",
    "Europe/Berlin\x00",
    "../../etc/passwd",
    "/etc/passwd",
    "/usr/share/zoneinfo/UTC",
    "Europe/../UTC",
    "..",
    ".",
    "./UTC",
    "zone.tab",
    "tzdata.zi",
    "Europe/" + "x" * 60,
    "+01:00",
])
def test_unknown_or_path_like_time_zones_are_refused_naming_time_zone(name: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.check_time_zone(name)
    assert err.value.field == "timeZone"
    assert "IANA" in err.value.message


def test_time_zone_field_can_be_renamed() -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.check_time_zone("Nowhere/Land", field="input.timeZone")
    assert err.value.field == "input.timeZone"


def test_text_may_be_absent_unless_required() -> None:
    rules.check_text("note", None, 10)
    with pytest.raises(ValidationFailed) as err:
        rules.check_text("name", None, 10, required=True)
    assert err.value.field == "name"


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_required_text_must_not_be_blank(blank: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.check_text("name", blank, 10, required=True)
    assert err.value.field == "name"


def test_optional_text_may_be_empty() -> None:
    rules.check_text("note", "", 10)


def test_text_up_to_the_limit_is_accepted_and_one_more_refused() -> None:
    rules.check_text("reference", "x" * rules.MAX_REFERENCE_LENGTH, rules.MAX_REFERENCE_LENGTH)
    with pytest.raises(ValidationFailed) as err:
        rules.check_text("reference", "x" * (rules.MAX_REFERENCE_LENGTH + 1),
                         rules.MAX_REFERENCE_LENGTH)
    assert err.value.field == "reference"
    assert str(rules.MAX_REFERENCE_LENGTH) in err.value.message


def test_text_limit_counts_characters_not_bytes() -> None:
    rules.check_text("name", "é" * 10, 10)


def test_nul_characters_are_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.check_text("note", "a\x00b", 10)
    assert err.value.field == "note"


def test_client_mutation_id_rules() -> None:
    rules.check_client_mutation_id("x" * rules.MAX_CLIENT_MUTATION_ID_LENGTH)
    for bad in ["", " ", "x" * (rules.MAX_CLIENT_MUTATION_ID_LENGTH + 1)]:
        with pytest.raises(ValidationFailed) as err:
            rules.check_client_mutation_id(bad)
        assert err.value.field == "clientMutationId"


def test_page_size_defaults_to_the_maximum() -> None:
    assert rules.check_page_size(None, DEFAULTS) == 100
    assert rules.check_page_size(None, Limits(max_page_size=7)) == 7


@pytest.mark.parametrize("first", [0, 1, 100])
def test_page_sizes_within_bounds_pass_through(first: int) -> None:
    assert rules.check_page_size(first, DEFAULTS) == first


@pytest.mark.parametrize("first", [-1, 101])
def test_page_sizes_out_of_bounds_are_refused_naming_first(first: int) -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.check_page_size(first, DEFAULTS)
    assert err.value.field == "first"
