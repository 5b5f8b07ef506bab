"""The audit: bookings that conflict, found with one query over the GiST index.

Two rows of a resource conflict when both block (a confirmed booking, or a hold not yet
expired: :mod:`.blocking`) and their blocked windows (the windows widened by the resource's
buffers when they were written) overlap: exactly what the exclusion constraint forbids, less
the expired holds it still sees. With the constraint in place it finds nothing; it exists to prove that, and to
catch what a constraint dropped by hand, a restore or a bad migration let through. Run as a
periodic job, it exports its count as a Prometheus gauge (printed, or pushed to a Pushgateway)
so that an alert fires on ``booking_overlapping_pairs > 0``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from prometheus_client import CollectorRegistry, Gauge, generate_latest, push_to_gateway
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_gateway.infra.postgres.blocking import blocks

_CONFLICTING = f"""
FROM bookings a
JOIN bookings b ON b.resource_id = a.resource_id AND a.id < b.id AND a.blocked && b.blocked
WHERE {blocks("a")} AND {blocks("b")}
"""

_OVERLAPS = text("""
SELECT a.tenant_id, a.resource_id, a.id AS first_id, lower(a.during) AS first_start,
       upper(a.during) AS first_end, b.id AS second_id, lower(b.during) AS second_start,
       upper(b.during) AS second_end
""" + _CONFLICTING + """
ORDER BY a.tenant_id, a.resource_id, lower(a.during)
LIMIT :limit
""")

_COUNT = text("SELECT count(*)" + _CONFLICTING)

#: A gauge, not a counter: it is the state found by the last run, and should stay 0.
OVERLAPS_METRIC = "booking_overlapping_pairs"
LAST_RUN_METRIC = "booking_reconcile_last_run_timestamp_seconds"
PUSH_JOB = "booking-gateway-reconcile"


@dataclass(frozen=True, slots=True)
class Overlap:
    tenant_id: UUID
    resource_id: UUID
    first_id: UUID
    first_start: datetime
    first_end: datetime
    second_id: UUID
    second_start: datetime
    second_end: datetime


async def find_overlaps(engine: AsyncEngine, limit: int = 10_000) -> list[Overlap]:
    async with engine.connect() as conn:
        rows = (await conn.execute(_OVERLAPS, {"limit": limit})).all()
    return [Overlap(*row) for row in rows]


async def count_overlaps(engine: AsyncEngine) -> int:
    """Every overlapping pair (``find_overlaps`` lists at most ``limit``)."""
    async with engine.connect() as conn:
        return int((await conn.execute(_COUNT)).scalar_one())


def overlap_metrics(count: int, now: float | None = None) -> CollectorRegistry:
    """The overlap count and the time it was taken, as a registry of Prometheus gauges."""
    registry = CollectorRegistry()
    Gauge(OVERLAPS_METRIC, "Pairs of blocking bookings (confirmed, or live holds) of one resource whose "
          "windows, buffers included, overlap, found by booking-gateway reconcile (the exclusion "
          "constraint keeps it at 0)",
          registry=registry).set(count)
    Gauge(LAST_RUN_METRIC, "When booking-gateway reconcile last counted the overlaps",
          registry=registry).set(time.time() if now is None else now)
    return registry


def prometheus_text(count: int, now: float | None = None) -> str:
    """The metrics in Prometheus' text exposition format (node_exporter's textfile collector)."""
    return generate_latest(overlap_metrics(count, now)).decode()


def push_overlaps(gateway_url: str, count: int, job: str = PUSH_JOB) -> None:
    """Push the metrics to a Prometheus Pushgateway, replacing the job's previous ones."""
    push_to_gateway(gateway_url, job=job, registry=overlap_metrics(count))
