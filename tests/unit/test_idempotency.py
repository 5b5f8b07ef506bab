import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from booking_gateway.domain.idempotency import IdempotencyKey, Mutation, _canonical, fingerprint
from booking_gateway.domain.time_window import TimeWindow

RESOURCE = uuid4()
NINE_UTC = datetime(2026, 12, 1, 9, tzinfo=UTC)
TEN_UTC = datetime(2026, 12, 1, 10, tzinfo=UTC)
BERLIN_WINTER = timezone(timedelta(hours=1))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))


def book(window: TimeWindow, reference: str | None = None, note: str | None = None) -> bytes:
    return fingerprint(Mutation.BOOK_SLOT, resource=RESOURCE, window=window, reference=reference,
                       note=note)


def test_the_same_instants_in_different_offsets_hash_equal() -> None:
    in_utc = TimeWindow(NINE_UTC, TEN_UTC)
    in_berlin = TimeWindow(NINE_UTC.astimezone(BERLIN_WINTER), TEN_UTC.astimezone(BERLIN_WINTER))
    in_new_york = TimeWindow(NINE_UTC.astimezone(NEW_YORK_WINTER),
                             TEN_UTC.astimezone(NEW_YORK_WINTER))
    assert book(in_utc) == book(in_berlin) == book(in_new_york)


def test_bare_datetimes_are_compared_as_instants_too() -> None:
    assert fingerprint(Mutation.BOOK_SLOT, at=NINE_UTC) == fingerprint(
        Mutation.BOOK_SLOT, at=NINE_UTC.astimezone(BERLIN_WINTER))
    assert fingerprint(Mutation.BOOK_SLOT, at=NINE_UTC) != fingerprint(
        Mutation.BOOK_SLOT, at=NINE_UTC.replace(tzinfo=BERLIN_WINTER))


def test_field_order_does_not_matter() -> None:
    assert fingerprint(Mutation.CANCEL_BOOKING, booking=RESOURCE, expected_version=2) == fingerprint(
        Mutation.CANCEL_BOOKING, expected_version=2, booking=RESOURCE)


def test_a_different_input_hashes_differently() -> None:
    base = book(TimeWindow(NINE_UTC, TEN_UTC))
    variants = {
        book(TimeWindow(NINE_UTC, TEN_UTC + timedelta(microseconds=1))),
        book(TimeWindow(NINE_UTC - timedelta(minutes=1), TEN_UTC)),
        book(TimeWindow(NINE_UTC, TEN_UTC), reference="ref"),
        book(TimeWindow(NINE_UTC, TEN_UTC), note="note"),
        book(TimeWindow(NINE_UTC, TEN_UTC), reference=""),
        fingerprint(Mutation.BOOK_SLOT, resource=uuid4(), window=TimeWindow(NINE_UTC, TEN_UTC),
                    reference=None, note=None),
    }
    assert base not in variants
    assert len(variants) == 6


def test_the_mutation_is_part_of_the_fingerprint() -> None:
    booking = uuid4()
    assert fingerprint(Mutation.CANCEL_BOOKING, booking=booking, expected_version=None) != fingerprint(
        Mutation.RESCHEDULE_BOOKING, booking=booking, expected_version=None)


def test_a_fingerprint_is_a_sha256_digest() -> None:
    assert len(book(TimeWindow(NINE_UTC, TEN_UTC))) == 32


def test_keys_are_scoped_to_tenant_and_mutation() -> None:
    tenant = uuid4()
    key = IdempotencyKey(tenant, Mutation.BOOK_SLOT, "abc")
    assert key == IdempotencyKey(tenant, Mutation.BOOK_SLOT, "abc")
    assert key != IdempotencyKey(uuid4(), Mutation.BOOK_SLOT, "abc")
    assert key != IdempotencyKey(tenant, Mutation.CANCEL_BOOKING, "abc")
    assert len({key, IdempotencyKey(tenant, Mutation.BOOK_SLOT, "abc")}) == 1


def _reference_fingerprint(mutation: Mutation, **fields: object) -> bytes:
    """The definition stored hashes were made with: json.dumps of the canonical fields."""
    canonical = json.dumps({"m": mutation.value, **{k: _canonical(v) for k, v in fields.items()}},
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).digest()


_TEXT = st.one_of(st.none(), st.text(max_size=40))
_INSTANT = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                                   timezone(timedelta(hours=-8))]))


@given(start=_INSTANT, minutes=st.integers(1, 10_000), reference=_TEXT, note=_TEXT,
       version=st.one_of(st.none(), st.integers(-(2**40), 2**40), st.booleans()),
       extra=st.one_of(st.none(), st.floats(allow_nan=False), st.lists(st.integers(), max_size=3)))
def test_the_fast_fingerprint_is_byte_for_byte_the_json_one(start: datetime, minutes: int, reference: str | None,
                                                             note: str | None, version: object,
                                                             extra: object) -> None:
    window = TimeWindow(start, start + timedelta(minutes=minutes))
    fields = {"resource": RESOURCE, "window": window, "reference": reference, "note": note,
              "expected_version": version, "at": start, "extra": extra}
    assert fingerprint(Mutation.BOOK_SLOT, **fields) == _reference_fingerprint(Mutation.BOOK_SLOT, **fields)
