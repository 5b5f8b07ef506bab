"""What a mutation use case returns: a value or an expected error, and whether it was replayed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from booking_gateway.domain.busy_resources import BusyResources
from booking_gateway.domain.errors import DomainError
from booking_gateway.domain.hold_rules import HoldLimits
from booking_gateway.domain.ports import BookingStore, Clock, EventPublisher, RangeLock
from booking_gateway.domain.rules import Limits
from booking_gateway.domain.rules_cache import RulesCache

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    value: T | None = None
    error: DomainError | None = None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Deps:
    """The ports and limits the use cases run against, wired once in ``app.py``."""

    store: BookingStore
    lock: RangeLock
    events: EventPublisher
    clock: Clock
    limits: Limits
    #: Per process: which resources' bookings pre-check before the lock (see busy_resources).
    busy: BusyResources = field(default_factory=BusyResources)
    holds: HoldLimits = field(default_factory=HoldLimits)
    #: Per process: compiled resource rules by version (a stale entry is caught at commit).
    rules: RulesCache = field(default_factory=RulesCache)
    #: False only in the torture's weakened build (BOOKING_UNSAFE_NO_RULES): rules not checked.
    enforce_rules: bool = True
