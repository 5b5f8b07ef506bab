"""The audit: confirmed bookings that overlap, found with one query over the GiST index.

With the exclusion constraint in place it finds nothing; it exists to prove that, and to
catch what a constraint dropped by hand, a restore or a bad migration let through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_OVERLAPS = text("""
SELECT a.tenant_id, a.resource_id, a.id AS first_id, lower(a.during) AS first_start,
       upper(a.during) AS first_end, b.id AS second_id, lower(b.during) AS second_start,
       upper(b.during) AS second_end
FROM bookings a
JOIN bookings b ON b.resource_id = a.resource_id AND a.id < b.id AND a.during && b.during
WHERE a.status = 'confirmed' AND b.status = 'confirmed'
ORDER BY a.tenant_id, a.resource_id, lower(a.during)
LIMIT :limit
""")


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
