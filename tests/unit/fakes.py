"""In-memory fakes of the domain ports that record what happened (cosmicpython style).

The fake store keeps the same promises as the port docstrings, including the
exclusion constraint: no write may leave two confirmed bookings of one resource
overlapping (:class:`OverlapViolation`). ``store.before(step, action)`` runs an action
once just before a named step, which is how tests play a concurrent request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from booking_gateway.domain.busy_resources import BusyResources
from booking_gateway.domain.errors import Contended
from booking_gateway.domain.idempotency import IdempotencyKey, OutcomeKind, StoredOutcome
from booking_gateway.domain.model import Booking, BookingStatus, Resource
from booking_gateway.domain.outcome import Deps
from booking_gateway.domain.ports import (
    AvailabilityChanged,
    Booked,
    BookingFilter,
    BookingPage,
    BookingStore,
    Clock,
    ConflictSpace,
    EventPublisher,
    Lease,
    LockAbandoned,
    NewBooking,
    OverlapViolation,
    Precheck,
    RangeLock,
    Rejected,
    Replayed,
    ResourceMissing,
    ResourcePage,
    RulesRecord,
    StoreContention,
    UnitOfWork,
)
from booking_gateway.domain.rules import Limits
from booking_gateway.domain.time_window import TimeWindow

Action = Callable[[], Awaitable[object] | object]

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class FakeClock(Clock):
    def __init__(self, now: datetime = T0) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def set(self, now: datetime) -> None:
        self.current = now

    def advance(self, by: timedelta) -> None:
        self.current += by


class FakeEventPublisher(EventPublisher):
    def __init__(self) -> None:
        self.events: list[AvailabilityChanged] = []

    async def publish(self, event: AvailabilityChanged) -> None:
        self.events.append(event)


class FakeRangeLock(RangeLock):
    """Grants a space unless a held space overlaps it; can be told to refuse or to degrade."""

    def __init__(self) -> None:
        self.contended_retry_after_ms: int | None = None
        self.degraded = False
        self.requests: list[ConflictSpace] = []
        self.held: list[ConflictSpace] = []
        self.released: list[ConflictSpace] = []
        self.still_wanted: list[Callable[[], Awaitable[bool]] | None] = []
        #: Spaces the use cases asked to wait for before their pre-check.
        self.awaited: list[ConflictSpace] = []
        #: Rounds of "refused, ask still_wanted, retry" to play before granting.
        self.waits_before_grant = 0

    async def await_known_holds(self, space: ConflictSpace) -> None:
        self.awaited.append(space)

    def hold(self, space: ConflictSpace, *,
             still_wanted: Callable[[], Awaitable[bool]] | None = None) -> AbstractAsyncContextManager[Lease]:
        self.still_wanted.append(still_wanted)
        return self._hold(space, still_wanted)

    @asynccontextmanager
    async def _hold(self, space: ConflictSpace,
                    still_wanted: Callable[[], Awaitable[bool]] | None) -> AsyncIterator[Lease]:
        self.requests.append(space)
        for _ in range(self.waits_before_grant):
            if still_wanted is not None and not await still_wanted():
                raise LockAbandoned()
        if self.degraded:
            yield Lease(held=False)
            return
        if self.contended_retry_after_ms is not None:
            raise Contended(self.contended_retry_after_ms)
        if any(_spaces_overlap(space, other) for other in self.held):
            raise Contended(100)
        self.held.append(space)
        try:
            yield Lease(held=True)
        finally:
            self.held.remove(space)
            self.released.append(space)


def _spaces_overlap(a: ConflictSpace, b: ConflictSpace) -> bool:
    return a.tenant_id == b.tenant_id and any(
        x.resource_id == y.resource_id and x.window.overlaps(y.window)
        for x in a.claims for y in b.claims
    )


@dataclass
class _State:
    resources: dict[UUID, Resource] = field(default_factory=dict)
    bookings: dict[UUID, Booking] = field(default_factory=dict)
    versions: dict[UUID, int] = field(default_factory=dict)
    outcomes: dict[IdempotencyKey, StoredOutcome] = field(default_factory=dict)
    #: the store's clock, which holds expire by (the database's now())
    clock: Clock | None = None

    def copy(self) -> _State:
        return _State(dict(self.resources), dict(self.bookings), dict(self.versions),
                      dict(self.outcomes), self.clock)

    def blocks(self, b: Booking) -> bool:
        """The one blocking predicate: confirmed, or held and not expired."""
        return b.confirmed or (b.held and self.clock is not None and b.expires_at is not None
                               and b.expires_at > self.clock.now())

    def overlapping(self, resource_id: UUID, window: TimeWindow,
                    excluding: UUID | None = None) -> tuple[TimeWindow, ...]:
        return tuple(sorted(
            b.window for b in self.bookings.values()
            if b.resource_id == resource_id and self.blocks(b) and b.id != excluding
            and b.window.overlaps(window)
        ))

    def effective(self, b: Booking) -> Booking:
        """A hold past its expiry reads as EXPIRED (the store's EFFECTIVE_STATUS)."""
        if b.held and not self.blocks(b):
            return replace(b, status=BookingStatus.EXPIRED)
        return b

    def end_expired(self, resource_id: UUID, window: TimeWindow) -> list[Booking]:
        return [replace(b, status=BookingStatus.EXPIRED) for b in self.bookings.values()
                if b.resource_id == resource_id and b.held and not self.blocks(b)
                and b.window.overlaps(window)]

    def write_booking(self, booking: Booking) -> None:
        """The exclusion constraint: a confirmed or held (even expired) row may overlap no other."""
        constrained = (BookingStatus.CONFIRMED, BookingStatus.HELD)
        if booking.status in constrained and any(
                b.resource_id == booking.resource_id and b.status in constrained
                and b.id != booking.id and b.window.overlaps(booking.window)
                for b in self.bookings.values()):
            raise OverlapViolation(f"{booking.window} overlaps a confirmed booking or a hold")
        self.bookings[booking.id] = booking

    def bump(self, resource_id: UUID) -> int:
        self.versions[resource_id] = self.versions.get(resource_id, 0) + 1
        return self.versions[resource_id]

    def owned(self, tenant_id: UUID, resource_id: UUID) -> Resource | None:
        resource = self.resources.get(resource_id)
        return resource if resource is not None and resource.tenant_id == tenant_id else None


class FakeUnitOfWork(UnitOfWork):
    """Reads committed state plus its own writes; :meth:`commit` applies the writes, else none."""

    def __init__(self, store: FakeBookingStore) -> None:
        self._store = store
        self._bookings: dict[UUID, Booking] = {}
        self._bumps: dict[UUID, int] = {}
        self._outcomes: dict[IdempotencyKey, StoredOutcome] = {}
        self.committed = False
        self.rolled_back = False

    async def booking_for_update(self, tenant_id: UUID, booking_id: UUID) -> Booking | None:
        await self._store.step("uow.booking_for_update")
        view = self._view()
        booking = view.bookings.get(booking_id)
        return view.effective(booking) if booking is not None and booking.tenant_id == tenant_id else None

    async def find_outcome(self, key: IdempotencyKey) -> StoredOutcome | None:
        await self._store.step("uow.find_outcome")
        return self._view().outcomes.get(key)

    async def overlapping(self, resource_id: UUID, window: TimeWindow,
                          excluding: UUID) -> tuple[TimeWindow, ...]:
        await self._store.step("uow.overlapping")
        return self._view().overlapping(resource_id, window, excluding)

    async def lock_resource(self, resource_id: UUID) -> None:
        await self._store.step("uow.lock_resource")

    async def end_expired_holds(self, resource_id: UUID, window: TimeWindow) -> int:
        await self._store.step("uow.end_expired_holds")
        ended = self._view().end_expired(resource_id, window)
        self._bookings.update((b.id, b) for b in ended)
        return len(ended)

    async def rules_for_share(self, tenant_id: UUID, resource_id: UUID) -> RulesRecord | None:
        resource = self._view().owned(tenant_id, resource_id)
        return RulesRecord(resource.time_zone, 0, None) if resource else None

    async def update_booking(self, booking: Booking, blocked: TimeWindow | None = None) -> None:
        await self._store.step("uow.update_booking")
        self._view().write_booking(booking)
        self._bookings[booking.id] = booking

    async def bump_availability_version(self, resource_id: UUID) -> int:
        await self._store.step("uow.bump_availability_version")
        self._bumps[resource_id] = self._bumps.get(resource_id, 0) + 1
        return self._view().versions[resource_id]

    async def store_outcome(self, key: IdempotencyKey, outcome: StoredOutcome) -> bool:
        await self._store.step("uow.store_outcome")
        if key in self._view().outcomes:
            return False
        self._outcomes[key] = outcome
        return True

    async def commit(self) -> None:
        await self._store.step("uow.commit")
        state = self._view()
        for booking in self._bookings.values():
            state.write_booking(booking)
        self._store.state = state
        self._forget()
        self.committed = True

    def rollback(self) -> None:
        """Drop the uncommitted writes; ``rolled_back`` tells whether nothing was ever committed."""
        self._forget()
        self.rolled_back = not self.committed

    def _forget(self) -> None:
        self._bookings, self._bumps, self._outcomes = {}, {}, {}

    def _view(self) -> _State:
        """What this transaction sees: the committed state (read committed) and its own writes."""
        state = self._store.state.copy()
        state.bookings.update(self._bookings)
        for resource_id, bumps in self._bumps.items():
            state.versions[resource_id] = state.versions.get(resource_id, 0) + bumps
        state.outcomes = {**self._outcomes, **state.outcomes}
        return state


class FakeBookingStore(BookingStore):
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.state = _State(clock=clock)
        self.calls: list[str] = []
        self.units: list[FakeUnitOfWork] = []
        self.contention_failures = 0
        self._hooks: dict[str, list[Action]] = {}

    # --- test controls ------------------------------------------------------------------------

    def before(self, step: str, action: Action) -> None:
        """Run ``action`` once, just before the next ``step`` (e.g. "commit_booking")."""
        self._hooks.setdefault(step, []).append(action)

    async def step(self, name: str) -> None:
        self.calls.append(name)
        for action in self._hooks.pop(name, []):
            result = action()
            if isinstance(result, Awaitable):
                await result

    def add_resource(self, tenant_id: UUID, name: str = "Room A", time_zone: str = "UTC") -> Resource:
        resource = Resource(uuid4(), tenant_id, name, time_zone, self.clock.now())
        self.state.resources[resource.id] = resource
        self.state.versions[resource.id] = 0
        return resource

    def add_booking(self, resource: Resource, window: TimeWindow,
                    status: BookingStatus = BookingStatus.CONFIRMED) -> Booking:
        """A booking committed by someone else; raises OverlapViolation like the constraint."""
        now = self.clock.now()
        booking = Booking(uuid4(), resource.tenant_id, resource.id, window, status, 1, None, None,
                          now, now)
        self.state.write_booking(booking)
        self.state.bump(resource.id)
        return booking

    def cancel(self, booking_id: UUID) -> None:
        """Someone else cancels a booking."""
        self.state.bookings[booking_id] = self.state.bookings[booking_id].cancelled(self.clock.now())
        self.state.bump(self.state.bookings[booking_id].resource_id)

    @property
    def bookings(self) -> list[Booking]:
        return list(self.state.bookings.values())

    @property
    def outcomes(self) -> dict[IdempotencyKey, StoredOutcome]:
        return dict(self.state.outcomes)

    def version(self, resource_id: UUID) -> int:
        return self.state.versions.get(resource_id, 0)

    # --- the port -----------------------------------------------------------------------------

    async def read_rules(self, tenant_id: UUID, resource_id: UUID) -> RulesRecord | None:
        resource = self.state.owned(tenant_id, resource_id)
        return RulesRecord(resource.time_zone, 0, None) if resource else None

    async def precheck_booking(self, key: IdempotencyKey, request_hash: bytes,
                               resource_id: UUID, window: TimeWindow, rules_version: int = 0) -> Precheck:
        await self.step("precheck_booking")
        prior = self.state.outcomes.get(key)
        found = self.state.owned(key.tenant_id, resource_id) is not None
        conflicts = self.state.overlapping(resource_id, window) if found else ()
        recorded = False
        if conflicts and prior is None:
            self.state.outcomes[key] = StoredOutcome(request_hash, OutcomeKind.SLOT_UNAVAILABLE,
                                                     conflicts=conflicts)
            recorded = True
        return Precheck(prior, found, conflicts, recorded)

    async def commit_booking(self, key: IdempotencyKey, request_hash: bytes,
                             booking: NewBooking) -> Booked | Rejected | Replayed | ResourceMissing:
        await self.step("commit_booking")
        if self.contention_failures > 0:
            self.contention_failures -= 1
            raise StoreContention("fake: serialization failure")
        if (prior := self.state.outcomes.get(key)) is not None:
            return Replayed(prior)
        if self.state.owned(booking.tenant_id, booking.resource_id) is None:
            return ResourceMissing()
        if conflicts := self.state.overlapping(booking.resource_id, booking.window):
            self.state.outcomes[key] = StoredOutcome(request_hash, OutcomeKind.SLOT_UNAVAILABLE,
                                                     conflicts=conflicts)
            return Rejected(conflicts)
        now = self.clock.now()
        for ended in self.state.end_expired(booking.resource_id, booking.window):
            self.state.bookings[ended.id] = ended
        held = booking.hold_seconds is not None
        made = Booking(booking.id, booking.tenant_id, booking.resource_id, booking.window,
                       BookingStatus.HELD if held else BookingStatus.CONFIRMED, 1, booking.reference,
                       booking.note, now, now,
                       now + timedelta(seconds=booking.hold_seconds or 0) if held else None)
        self.state.write_booking(made)
        version = self.state.bump(made.resource_id)
        self.state.outcomes[key] = StoredOutcome(request_hash, OutcomeKind.SUCCEEDED, made.id)
        return Booked(made, version)

    async def find_outcome(self, key: IdempotencyKey) -> StoredOutcome | None:
        await self.step("find_outcome")
        return self.state.outcomes.get(key)

    async def record_outcome(self, key: IdempotencyKey,
                             outcome: StoredOutcome) -> StoredOutcome | None:
        await self.step("record_outcome")
        if (existing := self.state.outcomes.get(key)) is not None:
            return existing
        self.state.outcomes[key] = outcome
        return None

    async def overlapping(self, resource_id: UUID, window: TimeWindow,
                          excluding: UUID | None = None) -> tuple[TimeWindow, ...]:
        await self.step("overlapping")
        return self.state.overlapping(resource_id, window, excluding)

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        return self._unit_of_work()

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        unit = FakeUnitOfWork(self)
        self.units.append(unit)
        try:
            yield unit
        finally:
            unit.rollback()

    async def create_resource(self, key: IdempotencyKey, request_hash: bytes,
                              resource: Resource) -> Resource | Replayed:
        await self.step("create_resource")
        if (prior := self.state.outcomes.get(key)) is not None:
            return Replayed(prior)
        self.state.resources[resource.id] = resource
        self.state.versions[resource.id] = 0
        self.state.outcomes[key] = StoredOutcome(request_hash, OutcomeKind.SUCCEEDED, resource.id)
        return resource

    async def get_resource(self, tenant_id: UUID, resource_id: UUID) -> Resource | None:
        return self.state.owned(tenant_id, resource_id)

    async def get_resources(self, tenant_id: UUID, ids: Sequence[UUID]) -> list[Resource]:
        return [r for i in ids if (r := self.state.owned(tenant_id, i)) is not None]

    async def list_resources(self, tenant_id: UUID, after: UUID | None,
                             limit: int) -> ResourcePage:
        mine = sorted((r for r in self.state.resources.values() if r.tenant_id == tenant_id),
                      key=lambda r: r.id)
        rest = [r for r in mine if after is None or r.id > after]
        return ResourcePage(rest[:limit], len(rest) > limit)

    async def get_booking(self, tenant_id: UUID, booking_id: UUID) -> Booking | None:
        booking = self.state.bookings.get(booking_id)
        return self.state.effective(booking) if booking is not None and booking.tenant_id == tenant_id else None

    async def list_bookings(self, query: BookingFilter) -> BookingPage:
        def wanted(b: Booking) -> bool:
            return (b.tenant_id == query.tenant_id and b.resource_id == query.resource_id
                    and (query.window is None or b.window.overlaps(query.window))
                    and (query.status is None or b.status is query.status)
                    and (query.after is None or (b.created_at, b.id) > query.after))
        found = sorted(filter(wanted, self.state.bookings.values()), key=lambda b: (b.created_at, b.id))
        return BookingPage(found[:query.limit], len(found) > query.limit)

    async def read_availability(
        self, tenant_id: UUID, resource_ids: Sequence[UUID], window: TimeWindow
    ) -> dict[UUID, tuple[list[TimeWindow], int]]:
        await self.step("read_availability")
        return {
            rid: (list(self.state.overlapping(rid, window)), self.state.versions[rid])
            for rid in resource_ids if self.state.owned(tenant_id, rid) is not None
        }


@dataclass
class Fakes:
    """One set of fakes wired the way ``app.py`` wires the real adapters."""

    clock: FakeClock = field(default_factory=FakeClock)
    lock: FakeRangeLock = field(default_factory=FakeRangeLock)
    events: FakeEventPublisher = field(default_factory=FakeEventPublisher)
    limits: Limits = field(default_factory=Limits)
    store: FakeBookingStore = field(init=False)
    busy: BusyResources = field(init=False)

    def __post_init__(self) -> None:
        self.store = FakeBookingStore(self.clock)
        self.busy = BusyResources(clock=lambda: self.clock.now().timestamp())

    @property
    def deps(self) -> Deps:
        return Deps(self.store, self.lock, self.events, self.clock, self.limits, self.busy)


def window(start_hour: float, end_hour: float, day: datetime = T0) -> TimeWindow:
    """Hours after midnight (UTC) of ``day``, e.g. ``window(9, 10.5)``."""
    midnight = day.replace(hour=0, minute=0, second=0, microsecond=0)
    return TimeWindow(midnight + timedelta(hours=start_hour), midnight + timedelta(hours=end_hour))

