"""The statements of resource rules: read, read locked, write, and the inputs of bookable slots."""

from __future__ import annotations

from booking_gateway.infra.postgres.blocking import BLOCKS
from booking_gateway.infra.postgres.sql import SQL

# :tenant :resource
READ_RULES = SQL("""
SELECT time_zone, CAST(rules AS text) AS rules, rules_version FROM resources
WHERE id = :resource AND tenant_id = :tenant
""")

# :tenant :resource. Inside a booking's transaction: the rules stay at this version until it
# ends (FOR KEY SHARE conflicts with WRITE_RULES' FOR UPDATE, not with the version bump).
RULES_FOR_SHARE = SQL("""
SELECT time_zone, CAST(rules AS text) AS rules, rules_version FROM resources
WHERE id = :resource AND tenant_id = :tenant
FOR KEY SHARE
""")

# :tenant :mutation :cmid :hash :resource :expected :document
# FOR UPDATE waits for every booking statement that read the rules (FOR KEY SHARE) and makes
# later ones wait and then see the new version. Bumps the rules and the availability version.
WRITE_RULES = SQL("""
WITH target AS (
    SELECT id, rules_version FROM resources WHERE id = :resource AND tenant_id = :tenant FOR UPDATE
), claim AS (
    INSERT INTO idempotency_records (tenant_id, mutation, client_mutation_id, request_hash, kind, object_id)
    SELECT :tenant, :mutation, :cmid, :hash, 'succeeded', id FROM target WHERE rules_version = :expected
    ON CONFLICT DO NOTHING
    RETURNING 1
), changed AS (
    UPDATE resources r
    SET rules = CAST(:document AS jsonb), rules_version = t.rules_version + 1,
        availability_version = r.availability_version + 1
    FROM target t
    WHERE r.id = t.id AND EXISTS (SELECT 1 FROM claim)
    RETURNING r.time_zone, CAST(:document AS text) AS rules, r.rules_version, r.availability_version
)
SELECT EXISTS (SELECT 1 FROM target) AS found, (SELECT rules_version FROM target) AS current, c.*
FROM (SELECT 1) AS one LEFT JOIN changed c ON true
""")

# :tenant :ids :start :end. One statement, one snapshot: each resource's rules and its blocked
# windows at one version. Bounds as epoch microseconds (see queries.AVAILABILITY).
SLOT_INPUTS = SQL(f"""
SELECT r.id, r.time_zone, CAST(r.rules AS text) AS rules, r.rules_version,
       r.availability_version AS version, b.starts, b.ends
FROM resources r
LEFT JOIN LATERAL (
    SELECT array_agg(CAST(extract(epoch FROM lower(blocked)) * 1000000 AS int8) ORDER BY blocked) AS starts,
           array_agg(CAST(extract(epoch FROM upper(blocked)) * 1000000 AS int8) ORDER BY blocked) AS ends
    FROM bookings
    WHERE resource_id = r.id AND {BLOCKS} AND blocked && tstzrange(:start, :end, '[)')
) AS b ON true
WHERE r.tenant_id = :tenant AND r.id = ANY(CAST(:ids AS uuid[]))
""")
