-- Acquire one claim of a range lock: a window of one resource, for one hold.
--
-- KEYS[1]  the resource's lock zset, "<prefix>:lock:{<tenant>:<resource>}": one member per live
--          entry, "<token>:<start_us>:<end_us>", scored by its expiry (epoch ms, caller's clock);
--          the only key the lock writes, and it expires with its longest-lived entry
-- ARGV[1]  now, epoch milliseconds, from the gateway's clock (not Redis TIME, so tests can inject it)
-- ARGV[2]  ttl in milliseconds: the entry expires at now + ttl unless extended
-- ARGV[3]  the hold's token (random, no ':'); entries with the same token never block each other
-- ARGV[4]  window start, integer epoch microseconds (inclusive)
-- ARGV[5]  window end, integer epoch microseconds (exclusive: [9,10) and [10,11) do not overlap)
--
-- Returns {1, 0} when granted: the entry is added and the zset's expiry moved to its last entry's.
-- Returns {0, ms} when a live entry of another hold overlaps the window: ms >= 1 is how long
-- until the last overlapping entry expires (an upper bound on the wait; holders usually release
-- much sooner). Expired entries are dropped first, whatever the outcome.
--
-- Lua numbers are doubles: window bounds compare exactly up to 2^53 us (the year 2255); past
-- that, adjacent windows may be taken for overlapping (a needless wait, never a double booking:
-- the database constraint decides).
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local token = ARGV[3]
local start_us = tonumber(ARGV[4])
local end_us = tonumber(ARGV[5])

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])

local live = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local blocked_for = 0
for i = 1, #live, 2 do
  local holder, s, e = string.match(live[i], '^([^:]*):(-?%d+):(-?%d+)$')
  if holder and holder ~= token and tonumber(s) < end_us and start_us < tonumber(e) then
    local left = tonumber(live[i + 1]) - now
    if left > blocked_for then blocked_for = left end
  end
end
if blocked_for > 0 then
  return {0, math.max(1, math.ceil(blocked_for))}
end

-- Scores go out through string.format: Lua 5.1 turns numbers into strings with only 14 digits.
redis.call('ZADD', KEYS[1], string.format('%.0f', now + ttl), token .. ':' .. ARGV[4] .. ':' .. ARGV[5])
-- The zset lives as long as its longest-lived entry, so an idle resource leaves no key behind.
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.max(1, math.ceil(tonumber(last[2]) - now))))
return {1, 0}
