"""Pruning idempotency records: without it the table (and its index) grows with every request.

A pruned key is forgotten: the same clientMutationId sent again after that is a new request.
Keep records longer than any client retries (days, not minutes).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

#: Rows deleted per statement, so that a large backlog never holds one long transaction.
BATCH = 5000

_PRUNE = text("""
DELETE FROM idempotency_records
WHERE ctid IN (SELECT ctid FROM idempotency_records
               WHERE created_at < now() - CAST(:age AS interval) LIMIT :batch)
""")


async def prune_idempotency_records(engine: AsyncEngine, older_than: timedelta) -> int:
    """Delete the records older than ``older_than``; how many were deleted."""
    deleted = 0
    while True:
        async with engine.begin() as conn:
            count = (await conn.execute(_PRUNE, {"age": older_than, "batch": BATCH})).rowcount
        deleted += count
        if count < BATCH:
            return deleted
