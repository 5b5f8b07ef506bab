"""Holds: bookings with status 'held' and an expiry, blocking their window like confirmed ones.

Revision ID: 0002_holds
Revises: 0001

The exclusion constraint is replaced in one statement of its own (``_CONSTRAINT``) so that
a migration widening the constrained range (buffers) can combine with it plainly.
"""

from alembic import op

revision = "0002_holds"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Live and expired-but-not-yet-ended holds are in the constraint: an expired hold is ended
#: (status 'expired') by the transaction that needs its window, before its insert.
_CONSTRAINT = """
    ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap
        EXCLUDE USING gist (resource_id WITH =, during WITH &&)
        WHERE (status IN ('confirmed', 'held'))"""


def upgrade() -> None:
    op.execute("ALTER TABLE bookings ADD COLUMN expires_at timestamptz")
    op.execute("ALTER TABLE bookings DROP CONSTRAINT bookings_status_check")
    op.execute("""
        ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
            CHECK (status IN ('confirmed', 'cancelled', 'held', 'expired', 'released'))""")
    op.execute("""
        ALTER TABLE bookings ADD CONSTRAINT bookings_hold_expiry
            CHECK (status <> 'held' OR expires_at IS NOT NULL)""")
    op.execute("ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap")
    op.execute(_CONSTRAINT)
    op.execute("ALTER TABLE idempotency_records DROP CONSTRAINT idempotency_records_kind_check")
    op.execute("ALTER TABLE idempotency_records ADD CONSTRAINT idempotency_records_kind_check "
               "CHECK (kind IN ('succeeded', 'slot_unavailable', 'hold_expired'))")
    # the sweeper's scan: live and expired holds by expiry
    op.execute("CREATE INDEX bookings_held_expiry ON bookings (expires_at) WHERE status = 'held'")


def downgrade() -> None:
    op.execute("DROP INDEX bookings_held_expiry")
    op.execute("UPDATE bookings SET status = 'cancelled' WHERE status IN ('held', 'expired', 'released')")
    op.execute("ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap")
    op.execute("""
        ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap
            EXCLUDE USING gist (resource_id WITH =, during WITH &&) WHERE (status = 'confirmed')""")
    op.execute("DELETE FROM idempotency_records WHERE kind = 'hold_expired'")
    op.execute("ALTER TABLE idempotency_records DROP CONSTRAINT idempotency_records_kind_check")
    op.execute("ALTER TABLE idempotency_records ADD CONSTRAINT idempotency_records_kind_check "
               "CHECK (kind IN ('succeeded', 'slot_unavailable'))")
    op.execute("ALTER TABLE bookings DROP CONSTRAINT bookings_hold_expiry")
    op.execute("ALTER TABLE bookings DROP CONSTRAINT bookings_status_check")
    op.execute("ALTER TABLE bookings ADD CONSTRAINT bookings_status_check "
                "CHECK (status IN ('confirmed', 'cancelled'))")
    op.execute("ALTER TABLE bookings DROP COLUMN expires_at")
