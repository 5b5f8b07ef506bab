"""Resource rules (versioned) and the blocked window: bookings conflict on their buffers too.

Revision ID: 0002_rules
Revises: 0001
"""

from alembic import op

revision = "0002_rules"
down_revision = "0001"
branch_labels = None
depends_on = None

# The exclusion constraint, moved from ``during`` to ``blocked`` (the window widened by the
# buffers at booking time). One statement, so that it can be combined with other changes to it.
MOVE_CONSTRAINT_TO_BLOCKED = """
    ALTER TABLE bookings
        DROP CONSTRAINT bookings_no_overlap,
        ADD CONSTRAINT bookings_no_overlap
            EXCLUDE USING gist (resource_id WITH =, blocked WITH &&) WHERE (status = 'confirmed')
"""
MOVE_CONSTRAINT_BACK_TO_DURING = """
    ALTER TABLE bookings
        DROP CONSTRAINT bookings_no_overlap,
        ADD CONSTRAINT bookings_no_overlap
            EXCLUDE USING gist (resource_id WITH =, during WITH &&) WHERE (status = 'confirmed')
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
