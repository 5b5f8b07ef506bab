"""The store's other statements, each a single round trip."""

from __future__ import annotations

from booking_gateway.infra.postgres.blocking import BLOCKS, EFFECTIVE_STATUS
from booking_gateway.infra.postgres.rows import BOOKING_COLUMNS, OUTCOME_COLUMNS
from booking_gateway.infra.postgres.sql import SQL

FIND_OUTCOME = SQL(f"""
SELECT {OUTCOME_COLUMNS} FROM idempotency_records
WHERE tenant_id = :tenant AND mutation = :mutation AND client_mutation_id = :cmid
""")

RECORD_OUTCOME = SQL("""
WITH stored AS (
    INSERT INTO idempotency_records
        (tenant_id, mutation, client_mutation_id, request_hash, kind, object_id, conflicts)
    VALUES (:tenant, :mutation, :cmid, :hash, :kind, :object_id,
            ARRAY(SELECT tstzrange(s, e, '[)') FROM unnest(CAST(:starts AS timestamptz[]),
                                                           CAST(:ends AS timestamptz[])) AS u(s, e)))
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM stored) AS stored
""")

# :start :end is a blocked window (buffers included); the answer is the bookings' own windows
OVERLAPPING = SQL(f"""
SELECT array_agg(lower(during) ORDER BY during) AS starts,
       array_agg(upper(during) ORDER BY during) AS ends
FROM bookings
WHERE resource_id = :resource AND {BLOCKS} AND blocked && tstzrange(:start, :end, '[)')
  AND id IS DISTINCT FROM CAST(:excluding AS uuid)
""")

CREATE_RESOURCE = SQL("""
WITH claim AS (
    INSERT INTO idempotency_records (tenant_id, mutation, client_mutation_id, request_hash, kind, object_id)
    VALUES (:tenant, :mutation, :cmid, :hash, 'succeeded', :id)
    ON CONFLICT DO NOTHING
    RETURNING object_id
)
INSERT INTO resources (id, tenant_id, name, time_zone)
SELECT object_id, :tenant, :name, :time_zone FROM claim
RETURNING id, tenant_id, name, time_zone, created_at
""")

GET_RESOURCE = SQL("""
SELECT id, tenant_id, name, time_zone, created_at FROM resources WHERE id = :id AND tenant_id = :tenant
""")

GET_RESOURCES = SQL("""
SELECT id, tenant_id, name, time_zone, created_at FROM resources
WHERE tenant_id = :tenant AND id = ANY(CAST(:ids AS uuid[]))
""")

LIST_RESOURCES = SQL("""
SELECT id, tenant_id, name, time_zone, created_at FROM resources
WHERE tenant_id = :tenant AND (CAST(:after AS uuid) IS NULL OR id > :after)
ORDER BY id LIMIT :limit
""")

GET_BOOKING = SQL(f"""
SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = :id AND tenant_id = :tenant
""")

LIST_BOOKINGS = SQL(f"""
SELECT {BOOKING_COLUMNS} FROM bookings
WHERE resource_id = :resource AND tenant_id = :tenant
  AND (CAST(:start AS timestamptz) IS NULL OR during && tstzrange(:start, :end, '[)'))
  AND (CAST(:status AS text) IS NULL OR {EFFECTIVE_STATUS} = :status)
  AND (CAST(:after_start AS timestamptz) IS NULL
       OR (lower(during), id) > (CAST(:after_start AS timestamptz), CAST(:after_id AS uuid)))
ORDER BY lower(during), id
LIMIT :limit
""")

# One statement, one snapshot: busy windows and the version are read atomically.
# The bounds as epoch microseconds (int8): asyncpg decodes a timestamptz ~6x slower than an
# int8, and rows.windows_from turns them into (cached) windows.
AVAILABILITY = SQL(f"""
SELECT r.id, r.availability_version AS version, b.starts, b.ends
FROM resources r
LEFT JOIN LATERAL (
    SELECT array_agg(CAST(extract(epoch FROM lower(during)) * 1000000 AS int8) ORDER BY during) AS starts,
           array_agg(CAST(extract(epoch FROM upper(during)) * 1000000 AS int8) ORDER BY during) AS ends
    FROM bookings
    WHERE resource_id = r.id AND {BLOCKS} AND during && tstzrange(:start, :end, '[)')
) AS b ON true
WHERE r.tenant_id = :tenant AND r.id = ANY(CAST(:ids AS uuid[]))
""")

TENANT_FOR_KEY = SQL("""
SELECT tenant_id FROM api_keys WHERE key_hash = :hash AND revoked_at IS NULL
""")
