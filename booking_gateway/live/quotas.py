"""Per-tenant quotas of live availability in one process: WebSockets, subscriptions, resource-days.

Without them one tenant could take a process's sockets, memory and bandwidth: every event carries
the availability of its whole window, so the bytes one booking makes the process send grow with
the subscribed windows. Besides counting sockets and subscriptions, the quotas therefore bound a
tenant's *resource-days*: the sum over its live subscriptions of resources x days of the window.

Counted in this process only, so a dead process can never leave counts behind; the price is that
N processes behind a load balancer allow a tenant N times each cap. Taking and giving back are
synchronous, so that a release completes in any ``finally``, cancelled or not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from booking_gateway.domain.time_window import TimeWindow

CONNECTIONS_SETTING = "BOOKING_WS_MAX_CONNECTIONS_PER_TENANT"
SUBSCRIPTIONS_SETTING = "BOOKING_WS_MAX_SUBSCRIPTIONS_PER_TENANT"
RESOURCE_DAYS_SETTING = "BOOKING_LIVE_MAX_RESOURCE_DAYS_PER_TENANT"

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    """The caps per tenant and process; None means no cap."""

    max_connections: int | None = None
    max_subscriptions: int | None = None
    max_resource_days: int | None = None


@dataclass(slots=True)
class Usage:
    """What one tenant holds in this process."""

    connections: int = 0
    subscriptions: int = 0
    resource_days: int = 0

    @property
    def empty(self) -> bool:
        return not (self.connections or self.subscriptions or self.resource_days)


class QuotaExceeded(Exception):
    """A socket or subscription over a cap; the message names the setting and the numbers."""

    def __init__(self, setting: str, limit: int, message: str) -> None:
        super().__init__(message)
        self.setting = setting
        self.limit = limit
        self.message = message


def resource_days(resources: int, window: TimeWindow) -> int:
    """What a subscription costs: resources x days of its window, a started day counting in full."""
    return resources * max(1, math.ceil(window.duration / _DAY))


class Lease:
    """What one socket or subscription holds; ``release`` gives it back once, however often called."""

    __slots__ = ("_quotas", "_taken", "_tenant_id")

    def __init__(self, quotas: TenantQuotas, tenant_id: UUID, taken: Usage) -> None:
        self._quotas = quotas
        self._tenant_id = tenant_id
        self._taken: Usage | None = taken

    @property
    def tenant_id(self) -> UUID:
        return self._tenant_id

    def release(self) -> None:
        taken, self._taken = self._taken, None
        if taken is not None:
            self._quotas._give_back(self._tenant_id, taken)


class TenantQuotas:
    """The live quotas of every tenant in this process."""

    def __init__(self, limits: QuotaLimits | None = None) -> None:
        self.limits = limits or QuotaLimits()
        self._usage: dict[UUID, Usage] = {}

    def usage(self, tenant_id: UUID) -> Usage:
        """A copy of what the tenant holds now (all zero for an unknown tenant)."""
        held = self._usage.get(tenant_id, Usage())
        return Usage(held.connections, held.subscriptions, held.resource_days)

    def tenants(self) -> int:
        """Tenants holding anything: 0 once every socket is closed (nothing leaks)."""
        return len(self._usage)

    def connect(self, tenant_id: UUID) -> Lease:
        """A seat for one WebSocket of the tenant, or :class:`QuotaExceeded`."""
        held = self._usage.get(tenant_id, Usage())
        cap = self.limits.max_connections
        if cap is not None and held.connections >= cap:
            # the reason of a close frame: at most 123 bytes
            raise QuotaExceeded(CONNECTIONS_SETTING, cap, (f"{held.connections} WebSockets of this tenant open on "
                                                           f"this process; {CONNECTIONS_SETTING} allows {cap}"))
        return self._take(tenant_id, Usage(connections=1))

    def subscribe(self, tenant_id: UUID, resources: int, window: TimeWindow) -> Lease:
        held = self._usage.get(tenant_id, Usage())
        cap = self.limits.max_subscriptions
        if cap is not None and held.subscriptions >= cap:
            raise QuotaExceeded(SUBSCRIPTIONS_SETTING, cap, (
                f"too many subscriptions for this tenant: {held.subscriptions} live on this gateway process, "
                f"{SUBSCRIPTIONS_SETTING} allows {cap}; complete one first"))
        cost = resource_days(resources, window)
        budget = self.limits.max_resource_days
        if budget is not None and held.resource_days + cost > budget:
            days = cost // resources
            raise QuotaExceeded(RESOURCE_DAYS_SETTING, budget, (
                f"this subscription covers {cost} resource-days ({resources} resource(s) x {days} day(s)); "
                f"with the {held.resource_days} this tenant already holds on this gateway process that is "
                f"over {RESOURCE_DAYS_SETTING}={budget}; subscribe to fewer resources or a shorter window"))
        return self._take(tenant_id, Usage(subscriptions=1, resource_days=cost))

    def _take(self, tenant_id: UUID, amount: Usage) -> Lease:
        held = self._usage.setdefault(tenant_id, Usage())
        held.connections += amount.connections
        held.subscriptions += amount.subscriptions
        held.resource_days += amount.resource_days
        return Lease(self, tenant_id, amount)

    def _give_back(self, tenant_id: UUID, amount: Usage) -> None:
        held = self._usage.get(tenant_id)
        if held is None:
            return
        held.connections -= amount.connections
        held.subscriptions -= amount.subscriptions
        held.resource_days -= amount.resource_days
        if held.empty:
            del self._usage[tenant_id]
