-- Register one persisted document (APQ) of a tenant, within the tenant's registration quota.
--
-- KEYS[1]  the document, "<prefix>:pq:{<tenant>}:<sha256>": its text, expiring after ARGV[2] s
-- KEYS[2]  the tenant's registration counter, "<prefix>:pq-quota:{<tenant>}": documents it has
--          registered since the counter was created; it expires ARGV[2] s after its creation,
--          so a tenant holds at most about twice ARGV[3] live documents at any time
-- ARGV[1]  the document's text (the caller has checked its hash and its size)
-- ARGV[2]  time to live of a document and of the counter, seconds
-- ARGV[3]  the quota: registrations allowed per counter period
--
-- Returns 1 if the document was stored, 0 if it was already known (its TTL is renewed), -1 if
-- the tenant's quota is spent (nothing is stored or counted).
if redis.call("EXPIRE", KEYS[1], ARGV[2]) == 1 then
  return 0
end
local used = tonumber(redis.call("GET", KEYS[2]) or "0")
if used >= tonumber(ARGV[3]) then
  return -1
end
if redis.call("INCR", KEYS[2]) == 1 then
  redis.call("EXPIRE", KEYS[2], ARGV[2])
end
redis.call("SET", KEYS[1], ARGV[1], "EX", ARGV[2])
return 1
