-- Release one claim of a hold: remove the caller's own entry, and only that one; first publish
-- the availability changes the hold made, so they cost no extra round trip (see outbox.py).
--
-- KEYS[1]  the resource's lock zset, "<prefix>:lock:{<tenant>:<resource>}"
-- ARGV[1]  the hold's token
-- ARGV[2]  window start, integer epoch microseconds
-- ARGV[3]  window end, integer epoch microseconds
-- ARGV[4], ARGV[5], ...  optional (channel, message) pairs to PUBLISH before releasing
--
-- Returns 1 if the entry was removed, 0 if it was already gone (expired and dropped by another
-- acquire, or never granted). The member embeds the token, so another holder's entry, even for
-- the very same window, can never match. An emptied zset disappears with its last member.
for i = 4, #ARGV - 1, 2 do
  redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
end
return redis.call('ZREM', KEYS[1], ARGV[1] .. ':' .. ARGV[2] .. ':' .. ARGV[3])
