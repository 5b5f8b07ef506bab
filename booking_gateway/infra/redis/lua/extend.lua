-- Extend one claim of a hold: push the caller's own live entry's expiry to now + ttl.
--
-- KEYS[1]  the resource's lock zset, "<prefix>:lock:{<tenant>:<resource>}"
-- ARGV[1]  now, epoch milliseconds, from the gateway's clock
-- ARGV[2]  ttl in milliseconds
-- ARGV[3]  the hold's token
-- ARGV[4]  window start, integer epoch microseconds
-- ARGV[5]  window end, integer epoch microseconds
--
-- Returns 1 if the entry was live and now expires at max(its expiry, now + ttl); 0 if it had
-- expired or was released: the caller no longer holds the window and must not act as if it did.
-- Only the member carrying the caller's token is touched.
local now = tonumber(ARGV[1])
local member = ARGV[3] .. ':' .. ARGV[4] .. ':' .. ARGV[5]
local score = redis.call('ZSCORE', KEYS[1], member)
if not score or tonumber(score) <= now then
  return 0
end
local expiry = math.max(tonumber(score), now + tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', expiry), member)
-- The zset outlives its entries by no more than the TTL: its expiry follows the longest-lived
-- one (PTTL -1, no expiry, is a zset left by an older version: it gets one here too).
local pttl = redis.call('PTTL', KEYS[1])
if pttl < expiry - now then
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.ceil(expiry - now)))
end
return 1
