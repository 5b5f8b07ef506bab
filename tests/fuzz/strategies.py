"""Adversarial inputs for every mutation: hostile strings, ids, instants, versions, and shapes.

Ids are drawn as :class:`IdRef` (which object, seen how) and resolved against the fuzzed world
at run time, so the strategies stay static (and shrink) while the ids are real.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from booking_gateway.schema.ids import to_global_id
from tests.fuzz.world import TenantData, World, as_type


def weighted(*choices: tuple[int, SearchStrategy[Any]]) -> SearchStrategy[Any]:
    """``one_of`` with weights (``one_of`` itself draws its distinct branches about evenly)."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


# --- strings ------------------------------------------------------------------------------------

NASTY_STRINGS = [
    "", " ", "\t\n", "\x00", "a\x00b", "\ud800", "x\udfff", "\udbff\udc00", "\u202eevil", "\ufeff",
    "😀", "e\u0301", "\u200b", "'; DROP TABLE bookings; --", "%s%n", "{{}}", "\\", "null", "None",
    "Resource:", "<script>alert(1)</script>", "ﬀ", "İ", "\U0010ffff",
]

#: Lengths around every limit of the rules (name 200, reference 500, note 4000), and huge.
LENGTHS = [199, 200, 201, 499, 500, 501, 3999, 4000, 4001, 100_000]

weird_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(categories=["Cs", "Cc", "Zs", "Mn", "So"]), max_size=8),
    st.sampled_from(NASTY_STRINGS),
    st.builds(lambda unit, n: unit * n, st.sampled_from(["x", "é", "😀", " ", "\x00"]), st.sampled_from(LENGTHS)),
)

#: JSON values of the wrong type, for any field.
wrong_types = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                        st.floats(allow_nan=False), st.lists(st.integers(), max_size=2),
                        st.fixed_dictionaries({"start": st.integers()}))

@dataclass(frozen=True)
class FreshKey:
    """A clientMutationId never sent before, made when the example runs (hypothesis repeats the
    uuids it draws, which would turn most requests into replays)."""

    def resolve(self, world: World) -> str:
        return f"fuzz-{uuid.uuid4()}"


client_mutation_ids = weighted(
    (5, st.just(FreshKey())),  # the request is new
    (1, st.sampled_from(["k-1", "k-2", "k-3"])),  # reused: replays and IDEMPOTENCY_KEY_REUSED
    (2, weird_text),
)

# --- ids ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdRef:
    """An id to send: ``own`` (a live object of the caller: for bookings a confirmed one, the
    latest first), ``own_any`` (any of its objects), ``other`` tenant's, ``retyped`` as another
    type, a ``fresh`` uuid, a ``variant`` spelling of an own id, base64 junk or ``raw`` text."""

    how: str
    kind: str = "resources"
    index: int = 0
    arg: Any = None

    @property
    def foreign(self) -> bool:
        """Whether the id must never reach an object of the caller (other tenant, wrong type, none)."""
        return self.how not in ("own", "own_any", "variant")

    def resolve(self, world: World) -> Any:
        if self.how in ("own", "own_any", "other", "retyped", "other_retyped", "variant"):
            tenant: TenantData = world.b if self.how.startswith("other") else world.a
            ids: list[str] = getattr(tenant, self.kind)
            if self.how == "own" and self.kind == "bookings" and tenant.confirmed:
                ids = tenant.confirmed
            global_id = ids[-1 - self.index % len(ids)]
            if self.how.endswith("retyped"):
                return as_type(global_id, self.arg)
            return _variant(global_id, self.arg) if self.how == "variant" else global_id
        if self.how == "fresh":
            return to_global_id(*self.arg)
        if self.how == "b64":
            return base64.b64encode(self.arg).decode()
        return self.arg


def _variant(global_id: str, how: str) -> str:
    decoded = base64.b64decode(global_id).decode()
    type_name, _, raw = decoded.partition(":")
    return {
        "unpadded": global_id.rstrip("="),
        "urlsafe": base64.urlsafe_b64encode(decoded.encode()).decode(),
        "spaced": f" {global_id} ",
        "upper_uuid": base64.b64encode(f"{type_name}:{raw.upper()}".encode()).decode(),
        "hex_uuid": base64.b64encode(f"{type_name}:{raw.replace('-', '')}".encode()).decode(),
        "suffix": base64.b64encode(f"{decoded}:extra".encode()).decode(),
        "lower_type": base64.b64encode(f"{type_name.lower()}:{raw}".encode()).decode(),
        "newline": global_id + "\n",
    }[how]


def id_refs(kind: str) -> st.SearchStrategy[IdRef]:
    other_type = {"resources": "Booking", "bookings": "Resource"}[kind]
    index = st.integers(0, 5)
    return weighted(
        (10, st.builds(IdRef, st.just("own"), st.just(kind), index)),
        (2, st.builds(IdRef, st.just("own_any"), st.just(kind), index)),
        (1, st.builds(IdRef, st.just("other"), st.just(kind), index)),
        (1, st.builds(IdRef, st.just("retyped"), st.just(kind), index,
                      st.sampled_from([other_type, "Tenant", ""]))),
        (1, st.builds(IdRef, st.just("other_retyped"), st.just(kind), index, st.just(other_type))),
        (1, st.builds(IdRef, st.just("variant"), st.just(kind), index, st.sampled_from(
            ["unpadded", "urlsafe", "spaced", "upper_uuid", "hex_uuid", "suffix", "lower_type", "newline"]))),
        (1, st.builds(IdRef, st.just("fresh"), arg=st.tuples(st.sampled_from(["Resource", "Booking"]),
                                                             st.uuids()))),
        (1, st.builds(IdRef, st.just("b64"), arg=st.one_of(st.binary(max_size=48), st.text(max_size=45).map(
            lambda t: f"{'Resource' if kind == 'resources' else 'Booking'}:{t}".encode(errors="surrogatepass"))))),
        (1, st.builds(IdRef, st.just("raw"), arg=st.one_of(weird_text, wrong_types))),
    )


# --- instants -----------------------------------------------------------------------------------

BASE = datetime(2030, 1, 1, tzinfo=UTC)  # the seeded bookings live on 2030-01-01..03

EXTREME_DATETIMES = [
    "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+00:01", "0001-01-01T00:00:00-23:59",
    "9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59-00:01", "9999-12-31T23:59:59+23:59",
    "2016-12-31T23:59:60Z", "2030-01-01T24:00:00Z", "2030-02-29T00:00:00Z", "2032-02-29T09:00:00Z",
    "2030-13-01T00:00:00Z", "2030-00-10T00:00:00Z", "2030-01-32T00:00:00Z", "0000-01-01T00:00:00Z",
    "2030-01-01T00:00:00+24:00", "2030-01-01T00:00:00+99:99", "2030-01-01T00:00:00-00:00",
    "2030-01-01T00:00:00.Z", "2030-01-01T00:00:00.1234567890Z", "2030-01-01T00:00:00,5Z",
    "2030-01-01", "09:00:00Z", "2030-01-01T09:00Z", "2030-W01-1T00:00:00Z", "20300101T090000Z",
    "+2030-01-01T00:00:00Z", "12030-01-01T00:00:00Z", "２０３０-01-01T09:00:00Z",
    "٢٠٣٠-٠١-٠١T٠٩:٠٠:٠٠Z", "2030-01-01T09:00:00+0100", "2030-01-01T09:00:00 +01:00",
    " 2030-01-01T09:00:00Z", "2030-01-01T09:00:00Z\n", "2030-01-01T09:00:00Z\x00", "now", "",
]


def render(instant: datetime, offset_min: int, *, sep: str = "T", zulu: str = "Z",
           fraction: str = "", with_offset: bool = True) -> str:
    """``instant`` (UTC) written as RFC 3339 at ``offset_min`` (the same instant, another wall time)."""
    local = instant + timedelta(minutes=offset_min)
    text = local.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + fraction
    if not with_offset:
        return text
    if offset_min == 0 and zulu:
        return text + zulu
    sign, value = ("+" if offset_min >= 0 else "-"), abs(offset_min)
    return f"{text}{sign}{value // 60:02}:{value % 60:02}"


offsets = st.one_of(st.just(0), st.sampled_from([60, -300, 330, 765, -720, 840]),
                    st.integers(-(23 * 60 + 59), 23 * 60 + 59))


@st.composite
def instant_texts(draw: st.DrawFn, instant: datetime) -> str:
    """One valid spelling of ``instant`` (sometimes without an offset, which is invalid)."""
    # digits past microseconds are dropped by the scalar, so ".999999999" stays in the same second
    fraction = draw(st.sampled_from(["", ".0", ".5", ".000000", ".123456", ".123456789", ".999999999"]))
    return render(instant, draw(offsets), sep=draw(st.sampled_from(["T", "t", " "])),
                  zulu=draw(st.sampled_from(["Z", "z", ""])), fraction=fraction,
                  with_offset=draw(st.sampled_from([True] * 19 + [False])))


@st.composite
def windows(draw: st.DrawFn) -> tuple[Any, Any]:
    """(start, end): mostly real windows near the seeded bookings, else anything."""
    if draw(st.sampled_from([False] * 5 + [True])):
        loose = weighted((3, st.sampled_from(EXTREME_DATETIMES)), (1, weird_text), (1, wrong_types),
                         (1, st.datetimes().map(lambda d: d.isoformat())))
        return draw(loose), draw(loose)
    # half near the seeded bookings (conflicts), half over the year (mostly free)
    days = draw(st.sampled_from([4, 365]))
    start = BASE + timedelta(minutes=15 * draw(st.integers(0, days * 24 * 4)))
    length = draw(weighted(
        (6, st.sampled_from([timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1),
                             timedelta(hours=2), timedelta(days=1), timedelta(days=31)])),
        (1, st.sampled_from([timedelta(0), -timedelta(hours=1), timedelta(days=31, microseconds=1),
                             timedelta(days=400)]))))
    return draw(instant_texts(start)), draw(instant_texts(start + length))


versions = weighted(
    (4, st.none()), (3, st.integers(1, 4)), (1, st.integers(-(2**31), 2**31 - 1)),
    (1, st.sampled_from([0, -1, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 2**53, 10**30])),
    (1, st.sampled_from([1.0, 1.5, "1", True])),
)

time_zones = weighted(
    (4, st.sampled_from(["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+12",
                         "Asia/Kathmandu"])),
    (1, st.sampled_from(["localtime", "posix/Europe/Berlin", "right/UTC", "Factory", "posixrules", "utc",
                         "Europe/berlin", "../../etc/passwd", "/etc/localtime", "Europe/Berlin\x00", "+01:00",
                         "Europe/Berlin ", ""])),
    (1, weird_text), (1, wrong_types),
)

# --- inputs -------------------------------------------------------------------------------------

INPUT_FIELDS = {
    "createResource": {"clientMutationId", "name", "timeZone"},
    "bookSlot": {"clientMutationId", "resourceId", "start", "end", "reference", "note"},
    "cancelBooking": {"clientMutationId", "bookingId", "expectedVersion"},
    "rescheduleBooking": {"clientMutationId", "bookingId", "start", "end", "expectedVersion"},
}

#: Fields no input has, sent now and then.
UNKNOWN_FIELDS = {"bogus", "client_mutation_id", "id", "tenantId"}


@st.composite
def shaped(draw: st.DrawFn, required: dict[str, st.SearchStrategy[Any]],
           optional: dict[str, st.SearchStrategy[Any]]) -> Any:
    """An input object; now and then a field is missing, an unknown one added, or not an object."""
    value = {name: draw(strategy) for name, strategy in required.items()}
    for name, strategy in optional.items():
        if draw(st.booleans()):
            value[name] = draw(strategy)
    damage = draw(st.sampled_from(["none"] * 37 + ["missing", "unknown", "not an object"]))
    if damage == "missing":
        value.pop(draw(st.sampled_from(sorted(value))))
    elif damage == "unknown":
        value[draw(st.sampled_from(sorted(UNKNOWN_FIELDS)))] = draw(wrong_types)
    elif damage == "not an object":
        return draw(st.one_of(wrong_types, weird_text))
    return value


def create_resource_inputs() -> st.SearchStrategy[Any]:
    name = weighted((3, st.sampled_from(["Room A", "  padded  ", "Court 1"])), (2, weird_text), (1, wrong_types))
    return shaped({"clientMutationId": client_mutation_ids, "name": name}, {"timeZone": time_zones})


@st.composite
def _with_window(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]],
                 optional: dict[str, st.SearchStrategy[Any]]) -> Any:
    start, end = draw(windows())
    return draw(shaped({**fields, "start": st.just(start), "end": st.just(end)}, optional))


def book_slot_inputs() -> st.SearchStrategy[Any]:
    text = weighted((4, st.none()), (2, st.just("order 7")), (1, weird_text), (1, wrong_types))
    return _with_window({"clientMutationId": client_mutation_ids, "resourceId": id_refs("resources")},
                        {"reference": text, "note": text})


def cancel_booking_inputs() -> st.SearchStrategy[Any]:
    return shaped({"clientMutationId": client_mutation_ids, "bookingId": id_refs("bookings")},
                  {"expectedVersion": versions})


def reschedule_booking_inputs() -> st.SearchStrategy[Any]:
    return _with_window({"clientMutationId": client_mutation_ids, "bookingId": id_refs("bookings")},
                        {"expectedVersion": versions})
