"""The hold sweeper: marks expired holds EXPIRED and tells subscribers promptly.

Correctness does not depend on it: an expired hold stops blocking at its ``expires_at``
(``infra/postgres/blocking.py``) and a writer that needs its window ends it in its own
transaction. The sweeper only makes the change visible to live subscriptions without waiting
for a write. Any number of gateway processes run one each: ``FOR UPDATE SKIP LOCKED`` hands
every expired hold to exactly one of them, and a resource whose row is locked by a booking in
flight is skipped for this round (so the sweeper never waits, and never deadlocks with a commit,
which locks the resource before the holds).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from booking_gateway.domain.ports import AvailabilityChanged, ChangeReason, EventPublisher
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.postgres.database import Database
from booking_gateway.infra.postgres.sql import SQL

log = logging.getLogger(__name__)

# :batch. One statement, one transaction: end up to :batch expired holds, bump the version of
# each resource concerned, and return per resource the span of what was ended.
SWEEP = SQL("""
WITH due AS (
    SELECT id, resource_id FROM bookings
    WHERE status = 'held' AND expires_at <= now()
    ORDER BY expires_at LIMIT :batch
    FOR UPDATE SKIP LOCKED
), free AS (
    SELECT id FROM resources WHERE id IN (SELECT resource_id FROM due)
    FOR UPDATE SKIP LOCKED
), ended AS (
    UPDATE bookings b SET status = 'expired', updated_at = now()
    FROM due WHERE b.id = due.id AND due.resource_id IN (SELECT id FROM free)
    RETURNING b.tenant_id, b.resource_id, b.during
), bumped AS (
    UPDATE resources r SET availability_version = availability_version + 1
    WHERE r.id IN (SELECT resource_id FROM ended)
    RETURNING r.id, r.availability_version
)
SELECT e.tenant_id, e.resource_id, min(lower(e.during)) AS start, max(upper(e.during)) AS end_,
       count(*) AS n, max(v.availability_version) AS version
FROM ended e JOIN bumped v ON v.id = e.resource_id
GROUP BY e.tenant_id, e.resource_id
""")


@dataclass(frozen=True, slots=True)
class SweepConfig:
    interval_s: float = 1.0
    batch: int = 500


class HoldSweeper:
    def __init__(self, database: Database, events: EventPublisher, config: SweepConfig) -> None:
        self._db = database
        self._events = events
        self._config = config
        self._task: asyncio.Task[None] | None = None
        #: holds this process marked EXPIRED since it started (for /readyz)
        self.expired = 0
        self._failing: str | None = None

    @property
    def status(self) -> str:
        """For /readyz: "disabled", "ok", or why the last round failed."""
        if self._config.interval_s <= 0:
            return "disabled"
        if self._task is None or self._task.done():
            return "stopped"
        return f"failing: {self._failing}" if self._failing else "ok"

    def start(self) -> None:
        if self._config.interval_s > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(), name="hold-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def sweep_once(self) -> int:
        """One round: end expired holds, publish EXPIRED per resource; how many were ended
        (a full batch means more may be due: the loop goes again at once)."""
        rows = await self._db.fetch(SWEEP, {"batch": self._config.batch})
        ended = 0
        for row in rows:
            ended += int(row["n"])
            await self._events.publish(AvailabilityChanged(
                row["tenant_id"], row["resource_id"], ChangeReason.EXPIRED,
                TimeWindow(row["start"], row["end_"]), int(row["version"])))
        self.expired += ended
        if rows:
            log.debug("hold sweeper: ended %d expired hold(s) on %d resource(s); %d since start",
                      ended, len(rows), self.expired)
        return ended

    async def _run(self) -> None:
        while True:
            try:
                ended = await self.sweep_once()
                if self._failing:
                    log.info("hold sweeper recovered after failing (%s)", self._failing)
                self._failing = None
            except asyncio.CancelledError:
                raise
            except Exception as err:  # keep sweeping: the next round may succeed
                if self._failing is None:
                    log.warning("hold sweeper round failed; expired holds still free their windows "
                                "(writers end them) but subscribers hear of it late: %r", err)
                self._failing = type(err).__name__
                ended = 0
            if ended < self._config.batch:
                await asyncio.sleep(self._config.interval_s)
