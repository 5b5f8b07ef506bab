"""The DateTime scalar: one fixed output format, and input errors that state the rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from graphql import parse, validate

from booking_gateway.domain.time_window import format_instant, format_instant_fixed
from booking_gateway.schema.build import build_schema
from booking_gateway.schema.scalars import DATETIME, RULE, parse_datetime, serialize_datetime


@pytest.mark.parametrize(("value", "text"), [
    (datetime(2026, 12, 1, 9, tzinfo=UTC), "2026-12-01T09:00:00.000000Z"),
    (datetime(2026, 12, 1, 9, 0, 0, 120000, tzinfo=UTC), "2026-12-01T09:00:00.120000Z"),
    (datetime(2026, 12, 1, 9, 0, 0, 1, tzinfo=UTC), "2026-12-01T09:00:00.000001Z"),
    (datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=1))), "2026-12-01T09:00:00.000000Z"),
    (datetime(1970, 1, 1, tzinfo=UTC), "1970-01-01T00:00:00.000000Z"),
    (datetime(8999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "8999-12-31T23:59:59.999999Z"),
])
def test_output_is_utc_with_six_fraction_digits(value: datetime, text: str) -> None:
    assert serialize_datetime(value) == format_instant_fixed(value) == text
    assert format_instant_fixed(value) == text  # again, from the cache


def test_fixed_output_sorts_as_the_instants_do() -> None:
    base = datetime(2026, 12, 1, 9, tzinfo=UTC)
    instants = [base + timedelta(microseconds=m) for m in (0, 1, 10, 999_999, 1_000_000, 1_500_000)]
    texts = [format_instant_fixed(i) for i in reversed(instants)]
    assert sorted(texts) == [format_instant_fixed(i) for i in instants]
    assert len({len(t) for t in texts}) == 1


def test_the_short_form_of_fingerprints_and_events_is_unchanged() -> None:
    assert format_instant(datetime(2026, 12, 1, 9, tzinfo=UTC)) == "2026-12-01T09:00:00Z"


def test_the_schema_documents_the_output_format() -> None:
    assert "2026-12-01T09:00:00.000000Z" in (DATETIME.description or "")
    assert "six fraction digits" in (DATETIME.description or "")


@pytest.mark.parametrize("text", [
    "2026-12-01T09:00:00+25:00",  # Python: "offset must be a timedelta strictly between ..."
    "2026-13-01T09:00:00Z",  # Python: "month must be in 1..12"
    "2026-02-30T09:00:00Z",  # Python: "day is out of range for month"
    "2026-12-01T24:00:00Z",
    "tomorrow",
    "",
])
def test_bad_input_states_the_rule_in_the_gateways_words(text: str) -> None:
    with pytest.raises(ValueError, match=r"^a DateTime is RFC 3339") as err:
        parse_datetime(text)
    message = str(err.value)
    assert message.startswith(RULE)
    assert f'got "{text}"' in message
    for python in ("timedelta", "must be in", "out of range", "Traceback", "ValueError", "datetime."):
        assert python not in message
    assert "1970-01-01T00:00:00Z" in RULE
    assert "9000-01-01T00:00:00Z" in RULE


@pytest.mark.parametrize(("value", "said"), [
    (None, "null, not a string"), (5, "a number, not a string"), ([], "a list, not a string"),
    ("2026-12-01T09:00:00Z" * 5, '"2026-12-01T09:00:00Z2026-12-01T09:00:00Z..."')])
def test_bad_input_echoes_little_of_the_value(value: object, said: str) -> None:
    with pytest.raises(ValueError, match=r"^a DateTime is RFC 3339") as err:
        parse_datetime(value)
    assert str(err.value) == f"{RULE}; got {said}"


def test_a_literal_in_a_document_is_refused_at_validation_with_the_rule() -> None:
    schema = build_schema()._schema
    document = parse('{ availability(resourceIds: ["x"], window: {start: "2026-12-01T09:00:00+25:00", '
                     'end: "2026-12-01T10:00:00Z"}) { version } }')
    [error] = validate(schema, document)
    assert RULE in error.message
    assert "timedelta" not in error.message
