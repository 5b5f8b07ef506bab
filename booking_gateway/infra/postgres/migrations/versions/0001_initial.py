"""Tenants, API keys, resources, bookings with the exclusion constraint, idempotency records.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute("""
        CREATE TABLE tenants (
            id uuid PRIMARY KEY,
            name text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE TABLE api_keys (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            key_hash bytea NOT NULL UNIQUE,
            hint text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz
        )""")
    op.execute("CREATE INDEX api_keys_tenant_id ON api_keys (tenant_id)")
    op.execute("""
        CREATE TABLE resources (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            name text NOT NULL,
            time_zone text NOT NULL,
            availability_version bigint NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE UNIQUE INDEX resources_tenant_page ON resources (tenant_id, id)")
    # The promise, kept by PostgreSQL: no two confirmed bookings of a resource overlap.
    op.execute("""
        CREATE TABLE bookings (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            resource_id uuid NOT NULL REFERENCES resources (id),
            during tstzrange NOT NULL CHECK (NOT isempty(during) AND lower_inc(during)
                                             AND NOT upper_inc(during)),
            status text NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
            version integer NOT NULL CHECK (version >= 1),
            reference text,
            note text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            CONSTRAINT bookings_no_overlap
                EXCLUDE USING gist (resource_id WITH =, during WITH &&) WHERE (status = 'confirmed')
        )""")
    op.execute("CREATE INDEX bookings_resource_start ON bookings (resource_id, lower(during), id)")
    op.execute("""
        CREATE TABLE idempotency_records (
            tenant_id uuid NOT NULL,
            mutation text NOT NULL,
            client_mutation_id text NOT NULL,
            request_hash bytea NOT NULL,
            kind text NOT NULL CHECK (kind IN ('succeeded', 'slot_unavailable')),
            object_id uuid,
            conflicts tstzrange[],
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, mutation, client_mutation_id)
        )""")


def downgrade() -> None:
    for table in ("idempotency_records", "bookings", "resources", "api_keys", "tenants"):
        op.execute(f"DROP TABLE {table}")
