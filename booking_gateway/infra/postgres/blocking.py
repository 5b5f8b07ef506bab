"""Which bookings take their blocked window out of the conflict space: one predicate, used by
every statement that looks for conflicts (pre-check, commit, reschedule, bookable slots), and
the same as the exclusion constraint's WHERE, so the reads and the constraint never disagree."""

from __future__ import annotations

#: SQL over a ``bookings`` row; the exclusion constraint (migration 0002_rules) says the same.
BLOCKING = "status = 'confirmed'"
