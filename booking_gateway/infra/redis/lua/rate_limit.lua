-- Count one request against a tenant's rate budget: GCRA, the "virtual scheduling" form of a
-- token bucket of `burst` tokens refilled one per `interval`. One key, one number, one round trip.
--
-- KEYS[1]  the tenant's bucket, "<prefix>:rate:{<tenant>}": its theoretical arrival time (TAT),
--          epoch microseconds; the bucket is full when the key is absent or TAT <= now. The key
--          expires when the bucket would be full again, so an idle tenant leaves nothing behind.
-- ARGV[1]  the emission interval in microseconds, 1e6 / rate: one token refills per interval
-- ARGV[2]  burst: the bucket's size, requests allowed at once after a quiet spell (>= 1)
-- ARGV[3]  now, epoch microseconds; "" (the default) uses the Redis server's TIME, one clock for
--          every gateway process sharing the bucket; tests pass their own to move time at will
-- ARGV[4]  cost: tokens this request takes, all or none (a batch of operations); 1 if absent.
--          A cost above the burst is never allowed (the caller refuses it before asking).
--
-- Returns {1, 0, remaining} when the request is allowed and counted: `remaining` more tokens
-- could be taken right now. Returns {0, retry_after_us, 0} when refused (nothing is counted,
-- so a refused flood does not push the tenant's recovery further out): retry_after_us >= 1 is
-- how long until `cost` tokens would be allowed.
--
-- Lua numbers are doubles: microsecond instants are exact until 2^53 us (the year 2255).
-- Numbers go out through string.format: Lua 5.1 turns them into strings with only 14 digits.
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[4]) or 1
local now
if ARGV[3] == '' then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
else
  now = tonumber(ARGV[3])
end

local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local next_tat = tat + cost * interval
local allow_at = next_tat - burst * interval
if now < allow_at then
  return {0, math.max(1, math.ceil(allow_at - now)), 0}
end

redis.call('SET', KEYS[1], string.format('%.0f', next_tat),
           'PX', string.format('%.0f', math.max(1, math.ceil((next_tat - now) / 1000))))
-- the epsilon keeps a whole token whole when the interval is not an integer (rate 3/s)
return {1, 0, math.floor((now - allow_at) / interval + 1e-9)}
