"""The one SQL predicate for "this row blocks its window", and what follows from it.

A confirmed booking blocks; a hold blocks until its ``expires_at``, read on PostgreSQL's clock
(``now()``, the transaction's start), the only clock holds are judged by. Every read of
conflicts (pre-check, commit, reschedule, availability, free/busy) uses :data:`BLOCKS`; the
exclusion constraint covers every row with status 'confirmed' or 'held' (expired or not), so a
writer ends the expired holds in its window (:func:`end_expired`) before it inserts.

What a row takes out of the conflict space is its ``blocked`` window: its own window widened
by the resource's buffers when it was written (migration 0003_rules_and_buffers); conflicts are
always looked for as ``blocked && <the new row's blocked window>``.
"""

from __future__ import annotations

#: The row (its columns unqualified) blocks its window.
BLOCKS = "(status = 'confirmed' OR (status = 'held' AND expires_at > now()))"


def blocks(alias: str) -> str:
    """:data:`BLOCKS` for the row ``alias`` of a join (reconcile compares two rows)."""
    return (f"({alias}.status = 'confirmed' OR ({alias}.status = 'held' "
            f"AND {alias}.expires_at > now()))")

#: The status a client sees: a hold past its expiry is EXPIRED even before it is ended.
EFFECTIVE_STATUS = ("CASE WHEN status = 'held' AND expires_at <= now() THEN 'expired' "
                    "ELSE status END")


def end_expired(condition: str = "", start: str = ":start", end: str = ":end") -> str:
    """An UPDATE (for a CTE) that ends the expired holds of :resource whose blocked windows
    overlap the blocked window [``start``, ``end``) and returns their ids; ``condition`` is ANDed
    to its WHERE.

    The constraint still sees an expired hold until it is ended, so every writer into a window
    runs this before its insert, in the same transaction: no sweeper is needed for correctness.
    The version stays: the hold read as EXPIRED from its expiry on (:data:`EFFECTIVE_STATUS`);
    ending it only writes that down, so a client's expectedVersion stays valid.
    """
    return f"""
    UPDATE bookings SET status = 'expired', updated_at = now()
    WHERE resource_id = :resource AND status = 'held' AND expires_at <= now()
      AND blocked && tstzrange({start}, {end}, '[)') {condition}
    RETURNING id"""
