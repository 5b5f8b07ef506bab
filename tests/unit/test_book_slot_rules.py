"""bookSlot against a resource's rules, on the fakes: refusals write nothing and take no lock;
the lock claims the window widened by the buffers; a stale cached refusal is read again."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID, uuid4

from booking_gateway.domain import schedule
from booking_gateway.domain.book_slot import book_slot
from booking_gateway.domain.commands import BookSlot
from booking_gateway.domain.errors import OutsideSchedule
from booking_gateway.domain.ports import Claim, ConflictSpace, RulesRecord
from booking_gateway.domain.schedule import RangeSpec, RulesSpec, WeeklySpec

from .fakes import Fakes, window

TENANT = uuid4()
# T0 (2026-12-01) is a Tuesday; open 09:00-17:00 every day, 15-minute buffer after
OFFICE = schedule.to_json(RulesSpec(weekly=tuple(WeeklySpec(d, (RangeSpec("09:00", "17:00"),)) for d in range(7)),
                                    buffer_after_minutes=15))


def with_rules(fakes: Fakes, document: str | None, version: int = 1) -> list[int]:
    """Serve ``document`` as the rules of every resource; returns the list of reads made."""
    reads: list[int] = []

    async def read_rules(tenant_id: UUID, resource_id: UUID) -> RulesRecord | None:
        reads.append(version)
        return RulesRecord("UTC", version, document)

    fakes.store.read_rules = read_rules  # type: ignore[method-assign]
    return reads


def cmd(resource_id: UUID, start: float, end: float, key: str = "k") -> BookSlot:
    w = window(start, end)
    return BookSlot(TENANT, key, resource_id, w.start, w.end)


async def test_a_window_outside_the_hours_is_refused_without_writing_or_locking() -> None:
    fakes = Fakes()
    room = fakes.store.add_resource(TENANT)
    with_rules(fakes, OFFICE)
    result = await book_slot(fakes.deps, cmd(room.id, 17, 18))
    assert isinstance(result.error, OutsideSchedule)
    assert result.error.reason == "CLOSED"
    assert result.error.nearest[-1] == window(16, 17)
    assert fakes.store.bookings == []
    assert fakes.lock.requests == []


async def test_the_lock_claims_the_window_with_its_buffers() -> None:
    fakes = Fakes()
    room = fakes.store.add_resource(TENANT)
    with_rules(fakes, OFFICE)
    result = await book_slot(fakes.deps, cmd(room.id, 9, 10))
    assert result.error is None
    assert fakes.lock.requests == [ConflictSpace(TENANT, (Claim(room.id, window(9, 10.25)),))]


async def test_a_refusal_by_cached_rules_is_decided_on_fresh_ones() -> None:
    fakes = Fakes()
    room = fakes.store.add_resource(TENANT)
    reads = with_rules(fakes, OFFICE, version=1)
    assert (await book_slot(fakes.deps, cmd(room.id, 9, 10, "a"))).error is None  # v1 cached
    with_rules(fakes, None, version=2)  # another process lifted the rules
    result = await book_slot(fakes.deps, cmd(room.id, 20, 21, "b"))
    assert result.error is None
    assert reads == [1]  # the second booking read again instead of trusting the cache


async def test_the_weakened_build_skips_the_rules() -> None:
    fakes = Fakes()
    room = fakes.store.add_resource(TENANT)
    with_rules(fakes, OFFICE)
    result = await book_slot(replace(fakes.deps, enforce_rules=False), cmd(room.id, 20, 21))
    assert result.error is None
