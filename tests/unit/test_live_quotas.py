"""The per-tenant live quotas of one process: caps, the resource-day budget, and giving back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.live.quotas import (
    CONNECTIONS_SETTING,
    RESOURCE_DAYS_SETTING,
    SUBSCRIPTIONS_SETTING,
    QuotaExceeded,
    QuotaLimits,
    TenantQuotas,
    resource_days,
)

START = datetime(2029, 3, 1, tzinfo=UTC)


def days(n: float) -> TimeWindow:
    return TimeWindow(START, START + timedelta(days=n))


def test_a_window_costs_its_resources_times_its_started_days() -> None:
    assert resource_days(1, days(1)) == 1
    assert resource_days(1, TimeWindow(START, START + timedelta(minutes=30))) == 1
    assert resource_days(3, days(1.5)) == 6
    assert resource_days(200, days(366)) == 73_200


def test_connections_are_capped_per_tenant_and_a_released_seat_can_be_taken_again() -> None:
    quotas = TenantQuotas(QuotaLimits(max_connections=2))
    tenant, other = uuid4(), uuid4()
    first, _ = quotas.connect(tenant), quotas.connect(tenant)
    with pytest.raises(QuotaExceeded) as refused:
        quotas.connect(tenant)
    assert refused.value.setting == CONNECTIONS_SETTING
    assert refused.value.message == f"2 WebSockets of this tenant open on this process; {CONNECTIONS_SETTING} allows 2"
    quotas.connect(other)  # another tenant's sockets are not counted against this one
    first.release()
    first.release()  # twice gives back once
    assert quotas.usage(tenant).connections == 1
    quotas.connect(tenant)
    with pytest.raises(QuotaExceeded):
        quotas.connect(tenant)


def test_subscriptions_are_capped_by_resource_days() -> None:
    quotas = TenantQuotas(QuotaLimits(max_resource_days=40))
    tenant = uuid4()
    month = quotas.subscribe(tenant, 1, days(30))
    with pytest.raises(QuotaExceeded) as refused:
        quotas.subscribe(tenant, 1, days(14.5))
    assert refused.value.setting == RESOURCE_DAYS_SETTING
    assert refused.value.message.startswith("this subscription covers 15 resource-days (1 resource(s) x 15 day(s)); "
                                            "with the 30 this tenant already holds")
    assert f"{RESOURCE_DAYS_SETTING}=40" in refused.value.message
    quotas.subscribe(tenant, 2, days(5))
    assert quotas.usage(tenant).resource_days == 40
    with pytest.raises(QuotaExceeded):
        quotas.subscribe(tenant, 1, days(0.1))
    month.release()
    assert quotas.usage(tenant).resource_days == 10
    quotas.subscribe(tenant, 1, days(30))


def test_subscriptions_are_capped_by_count() -> None:
    quotas = TenantQuotas(QuotaLimits(max_subscriptions=3))
    tenant = uuid4()
    first = quotas.subscribe(tenant, 1, days(1))
    quotas.subscribe(tenant, 1, days(1))
    quotas.subscribe(tenant, 1, days(1))
    with pytest.raises(QuotaExceeded) as refused:
        quotas.subscribe(tenant, 1, days(1))
    assert refused.value.setting == SUBSCRIPTIONS_SETTING
    assert f"3 live on this gateway process, {SUBSCRIPTIONS_SETTING} allows 3" in refused.value.message
    first.release()
    quotas.subscribe(tenant, 1, days(1))


def test_nothing_is_left_once_everything_is_given_back() -> None:
    quotas = TenantQuotas(QuotaLimits(max_connections=5, max_subscriptions=5, max_resource_days=100))
    tenant = uuid4()
    leases = [quotas.connect(tenant), quotas.subscribe(tenant, 2, days(3)), quotas.subscribe(tenant, 1, days(1))]
    assert quotas.tenants() == 1
    for lease in leases:
        lease.release()
    assert quotas.tenants() == 0
    assert quotas.usage(tenant).empty


def test_without_limits_nothing_is_refused() -> None:
    quotas, tenant = TenantQuotas(), uuid4()
    for _ in range(1000):
        quotas.connect(tenant)
        quotas.subscribe(tenant, 100, days(366))
    assert quotas.usage(tenant).resource_days == 36_600_000


def test_the_connection_refusal_fits_a_close_frame_whatever_the_numbers() -> None:
    quotas, tenant = TenantQuotas(QuotaLimits(max_connections=100_000)), uuid4()
    for _ in range(100_000):
        quotas.connect(tenant)
    with pytest.raises(QuotaExceeded) as refused:
        quotas.connect(tenant)
    assert len(refused.value.message.encode()) <= 123, "a WebSocket close reason is at most 123 bytes"
