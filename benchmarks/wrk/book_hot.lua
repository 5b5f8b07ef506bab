-- The hot resource: a fresh day opens every DAY_EVERY requests (per thread, so all threads move
-- together), and every client races for that day's 1-hour windows on 15-minute steps; once the
-- day is full, the answers are rejections.
dofile(os.getenv("WRK_DIR") .. "/common.lua")
local resource = os.getenv("HOT_RESOURCE")
local base = tonumber(os.getenv("BASE_EPOCH"))
local every = tonumber(os.getenv("DAY_EVERY") or "40")
local n = 0
local q = "mutation($i: BookSlotInput!) { bookSlot(input: $i) { booking { id } error { code } } }"
function request()
  n = n + 1
  local day = math.floor(n / every)
  local start = base + day * 86400 + math.random(0, 92) * 900
  return graphql_post(q, string.format(
    '{"i":{"clientMutationId":"h-%d-%d-%d","resourceId":"%s","start":"%s","end":"%s"}}',
    base, tindex, n, resource, iso(start), iso(start + 3600)))
end
