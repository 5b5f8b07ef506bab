"""The ports the use cases need; ``infra`` implements them, unit tests fake them.

Each port states the guarantee the use cases rely on. The booking path needs at most
two database round trips (:meth:`BookingStore.precheck_booking` and
:meth:`BookingStore.commit_booking`; on a quiet resource only the commit), which is why
those two are coarse.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from booking_gateway.domain.idempotency import IdempotencyKey, StoredOutcome
from booking_gateway.domain.model import Booking, BookingStatus, Resource
from booking_gateway.domain.time_window import TimeWindow


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC wall-clock time."""
        ...


# --- the range lock ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    resource_id: UUID
    window: TimeWindow


@dataclass(frozen=True, slots=True)
class ConflictSpace:
    """What a write competes for: windows of resources, in a fixed order (no lock-order deadlock)."""

    tenant_id: UUID
    claims: tuple[Claim, ...]

    @classmethod
    def of(cls, tenant_id: UUID, *claims: Claim) -> ConflictSpace:
        return cls(tenant_id, tuple(sorted(claims, key=lambda c: (c.resource_id, c.window))))


@dataclass(frozen=True, slots=True)
class Lease:
    """A held range lock; ``held`` is False when the lock service was unreachable.

    No fencing token: nothing could check one (the store's exclusion constraint, not the lock,
    is the last line of defence against a holder whose lease expired).
    """

    held: bool


class LockAbandoned(Exception):
    """Raised by :meth:`RangeLock.hold` when ``still_wanted`` said the caller gave up waiting."""


class RangeLock(Protocol):
    def hold(self, space: ConflictSpace, *,
             still_wanted: Callable[[], Awaitable[bool]] | None = None) -> AbstractAsyncContextManager[Lease]:
        """Hold every claim of ``space`` for the body, waiting a bounded time.

        Raises :class:`~booking_gateway.domain.errors.Contended` when overlapping holders
        keep a claim past the wait. Between attempts it asks ``still_wanted`` (if given) and
        raises :class:`LockAbandoned` on False, so a waiter whose window was taken meanwhile
        is answered at once instead of at the end of the wait. When the lock service is unreachable it yields an
        unheld lease instead of failing: the database constraint keeps the promise, the
        lock only makes contention cheap. Entries expire by themselves, so a crashed
        holder never blocks a window for longer than the lock TTL.
        """
        ...

    async def await_known_holds(self, space: ConflictSpace) -> None:
        """Wait, briefly, while a hold that this lock sees without a round trip overlaps ``space``.

        Only a matter of cost: a pre-check made after an overlapping booking in flight has
        committed decides at once, where one made before it passes, waits for the lock and
        reads again. Takes nothing and never raises; a lock that sees no holds returns at once.
        """
        ...


# --- events -----------------------------------------------------------------------------------


class ChangeReason(StrEnum):
    SNAPSHOT = "SNAPSHOT"
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    RESCHEDULED = "RESCHEDULED"
    HELD = "HELD"
    CONFIRMED = "CONFIRMED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"
    RULES_CHANGED = "RULES_CHANGED"


@dataclass(frozen=True, slots=True)
class AvailabilityChanged:
    tenant_id: UUID
    resource_id: UUID
    reason: ChangeReason
    changed: TimeWindow
    version: int


class EventPublisher(Protocol):
    async def publish(self, event: AvailabilityChanged) -> None:
        """Announce a committed change. Best effort: never raises (subscribers re-sync)."""
        ...


# --- the database -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewBooking:
    id: UUID
    tenant_id: UUID
    resource_id: UUID
    window: TimeWindow
    reference: str | None
    note: str | None
    #: a hold of this many seconds from the store's clock; None for a confirmed booking
    hold_seconds: int | None = None
    #: The window widened by the rules' buffers: what the booking takes out of the conflict space.
    blocked: TimeWindow | None = None
    #: The rules version the booking was checked against; the commit refuses any other.
    rules_version: int = 0

    @property
    def blocks(self) -> TimeWindow:
        return self.blocked or self.window


@dataclass(frozen=True, slots=True)
class RulesRecord:
    """A resource's stored rules, read at one version (``document`` None: never set)."""

    time_zone: str
    version: int
    document: str | None


class RulesChanged(Exception):
    """The rules changed since the request was checked: check again against the new ones."""


@dataclass(frozen=True, slots=True)
class RulesWritten:
    record: RulesRecord
    availability_version: int


@dataclass(frozen=True, slots=True)
class RulesVersionMismatch:
    current: int


@dataclass(frozen=True, slots=True)
class SlotInputs:
    """What bookable slots of one resource are computed from, read in one snapshot."""

    rules: RulesRecord
    availability_version: int
    #: the blocking bookings' blocked windows, [start, end) in epoch microseconds: a week of 50
    #: resources is a thousand windows, cheaper to compare as integers than to build
    blocked: list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Precheck:
    """One lock-free read: a stored outcome, the resource's ownership, the overlaps."""

    prior: StoredOutcome | None
    resource_found: bool
    conflicts: tuple[TimeWindow, ...]
    rejection_recorded: bool
    #: The resource's rules version now; a pre-check against another version decides nothing.
    rules_version: int = 0


@dataclass(frozen=True, slots=True)
class Booked:
    booking: Booking
    availability_version: int


@dataclass(frozen=True, slots=True)
class Rejected:
    conflicts: tuple[TimeWindow, ...]


@dataclass(frozen=True, slots=True)
class Replayed:
    prior: StoredOutcome


@dataclass(frozen=True, slots=True)
class ResourceMissing:
    """The commit found no such resource for the tenant (nothing was written)."""


class StoreContention(Exception):
    """The database refused a write for a transient reason that a re-read did not explain."""


class OverlapViolation(Exception):
    """The exclusion constraint refused a write: an overlapping confirmed booking committed."""


@dataclass(frozen=True, slots=True)
class BookingPage:
    bookings: list[Booking]
    has_next: bool


@dataclass(frozen=True, slots=True)
class ResourcePage:
    resources: list[Resource]
    has_next: bool


@dataclass(frozen=True, slots=True)
class BookingFilter:
    tenant_id: UUID
    resource_id: UUID
    window: TimeWindow | None
    status: BookingStatus | None
    after: tuple[datetime, UUID] | None
    limit: int


class UnitOfWork(Protocol):
    """One transaction; it rolls back unless :meth:`commit` was called.

    Any method may raise :class:`StoreContention` when the database aborts the transaction
    for a transient reason (deadlock, serialization failure); nothing of it was written.
    """

    async def booking_for_update(self, tenant_id: UUID, booking_id: UUID) -> Booking | None: ...

    async def find_outcome(self, key: IdempotencyKey) -> StoredOutcome | None: ...

    async def overlapping(self, resource_id: UUID, window: TimeWindow,
                          excluding: UUID) -> tuple[TimeWindow, ...]:
        """Windows of the blocking bookings whose blocked windows overlap ``window``."""
        ...

    async def lock_resource(self, resource_id: UUID) -> None:
        """Lock the resource's row first, in the order the booking commit takes its locks
        (resource, then holds), so that changes of holds never deadlock with it."""
        ...

    async def end_expired_holds(self, resource_id: UUID, window: TimeWindow) -> int:
        """End (status EXPIRED) the expired holds overlapping ``window``; how many.

        The exclusion constraint still sees them, so a write into the window runs this first."""
        ...

    async def rules_for_share(self, tenant_id: UUID, resource_id: UUID) -> RulesRecord | None:
        """The rules, locked against a change until the transaction ends."""
        ...

    async def update_booking(self, booking: Booking, blocked: TimeWindow | None = None) -> None:
        """Write status, window (and the blocked window if given), version and updated_at;
        raises :class:`OverlapViolation`."""
        ...

    async def bump_availability_version(self, resource_id: UUID) -> int: ...

    async def store_outcome(self, key: IdempotencyKey, outcome: StoredOutcome) -> bool:
        """False if another request stored an outcome for ``key`` first."""
        ...

    async def commit(self) -> None: ...


class BookingStore(Protocol):
    async def precheck_booking(self, key: IdempotencyKey, request_hash: bytes,
                               resource_id: UUID, window: TimeWindow, rules_version: int = 0) -> Precheck:
        """Idempotency fast path, tenant check and optimistic overlap check in one read.

        ``window`` is the blocked window (buffers included). Overlaps are looked for only when
        the resource's rules are still at ``rules_version``.

        When it finds overlaps and no stored outcome, it also records the SLOT_UNAVAILABLE
        outcome for ``key`` so that a replay answers the same.
        """
        ...

    async def commit_booking(self, key: IdempotencyKey, request_hash: bytes,
                             booking: NewBooking) -> Booked | Rejected | Replayed | ResourceMissing:
        """Atomically claim ``key``, insert the booking, bump the version, store the outcome.

        It decides on its own, without a pre-check: a stored outcome for ``key`` (a retry,
        or a concurrent request that stored first) gives ``Replayed``; a resource the tenant
        does not have gives ``ResourceMissing``; an overlap (found by a re-read or by the
        exclusion constraint) gives ``Rejected`` with the overlapping windows, its outcome
        stored. Raises :class:`StoreContention` if the database keeps
        refusing without an overlap to show for it, :class:`RulesChanged` (nothing written)
        when the rules are no longer at ``booking.rules_version``: the rules row is read
        under a lock that :meth:`write_rules` conflicts with, in the same statement.
        """
        ...

    async def read_rules(self, tenant_id: UUID, resource_id: UUID) -> RulesRecord | None: ...

    async def write_rules(self, key: IdempotencyKey, request_hash: bytes, tenant_id: UUID,
                          resource_id: UUID, expected_version: int,
                          document: str) -> RulesWritten | RulesVersionMismatch | Replayed | ResourceMissing:
        """Replace the rules if still at ``expected_version`` (row locked FOR UPDATE, so no
        booking commits between the check and the change), bump both versions, store the outcome."""
        ...

    async def read_slot_inputs(self, tenant_id: UUID, resource_ids: Sequence[UUID],
                               window: TimeWindow) -> dict[UUID, SlotInputs]:
        """Rules and blocked windows overlapping ``window``, per resource of the tenant, in one
        statement (one snapshot: each resource at one version)."""
        ...

    async def find_outcome(self, key: IdempotencyKey) -> StoredOutcome | None: ...

    async def record_outcome(self, key: IdempotencyKey,
                             outcome: StoredOutcome) -> StoredOutcome | None:
        """Store ``outcome`` unless one exists: None when stored, else the existing one."""
        ...

    async def overlapping(self, resource_id: UUID, window: TimeWindow,
                          excluding: UUID | None = None) -> tuple[TimeWindow, ...]: ...

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]: ...

    async def create_resource(self, key: IdempotencyKey, request_hash: bytes,
                              resource: Resource) -> Resource | Replayed: ...

    async def get_resource(self, tenant_id: UUID, resource_id: UUID) -> Resource | None: ...

    async def get_resources(self, tenant_id: UUID, ids: Sequence[UUID]) -> list[Resource]: ...

    async def list_resources(self, tenant_id: UUID, after: UUID | None,
                             limit: int) -> ResourcePage: ...

    async def get_booking(self, tenant_id: UUID, booking_id: UUID) -> Booking | None: ...

    async def list_bookings(self, query: BookingFilter) -> BookingPage: ...

    async def read_availability(
        self, tenant_id: UUID, resource_ids: Sequence[UUID], window: TimeWindow
    ) -> dict[UUID, tuple[list[TimeWindow], int]]:
        """Confirmed windows overlapping ``window`` and the version, per resource of the tenant,
        read in one snapshot. Resources of other tenants are absent from the answer."""
        ...
