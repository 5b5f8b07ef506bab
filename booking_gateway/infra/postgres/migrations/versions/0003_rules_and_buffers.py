"""Resource rules (versioned) and the blocked window: bookings conflict on their buffers too.

Revision ID: 0003_rules_and_buffers
Revises: 0002_holds
"""

from alembic import op

revision = "0003_rules_and_buffers"
down_revision = "0002_holds"
branch_labels = None
depends_on = None

# The exclusion constraint, moved from ``during`` to ``blocked`` (the window widened by the
# buffers at booking time), over the rows that may block: confirmed bookings and holds (0002_holds;
# an expired hold is ended by the writer that needs its window).
MOVE_CONSTRAINT_TO_BLOCKED = """
    ALTER TABLE bookings
        DROP CONSTRAINT bookings_no_overlap,
        ADD CONSTRAINT bookings_no_overlap
            EXCLUDE USING gist (resource_id WITH =, blocked WITH &&) WHERE (status IN ('confirmed', 'held'))
"""
MOVE_CONSTRAINT_BACK_TO_DURING = """
    ALTER TABLE bookings
        DROP CONSTRAINT bookings_no_overlap,
        ADD CONSTRAINT bookings_no_overlap
            EXCLUDE USING gist (resource_id WITH =, during WITH &&) WHERE (status IN ('confirmed', 'held'))
"""


def upgrade() -> None:
    # rules: the client's document (JSON) and its version; 0 = never set (no restrictions)
    op.execute("ALTER TABLE resources ADD COLUMN rules jsonb, "
               "ADD COLUMN rules_version integer NOT NULL DEFAULT 0 CHECK (rules_version >= 0)")
    op.execute("ALTER TABLE bookings ADD COLUMN blocked tstzrange")
    op.execute("UPDATE bookings SET blocked = during")
    op.execute("ALTER TABLE bookings ALTER COLUMN blocked SET NOT NULL, "
               "ADD CONSTRAINT bookings_blocked_covers_during CHECK (blocked @> during)")
    op.execute(MOVE_CONSTRAINT_TO_BLOCKED)


def downgrade() -> None:
    op.execute(MOVE_CONSTRAINT_BACK_TO_DURING)
    op.execute("ALTER TABLE bookings DROP COLUMN blocked")
    op.execute("ALTER TABLE resources DROP COLUMN rules, DROP COLUMN rules_version")
