-- bookSlot, uncontended: every request a fresh 30-minute window on one of the resources
dofile(os.getenv("WRK_DIR") .. "/common.lua")
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local base = tonumber(os.getenv("BASE_EPOCH"))
local n = 0
local q = "mutation($i: BookSlotInput!) { bookSlot(input: $i) { booking { id } error { code } } }"
function request()
  n = n + 1
  local start = base + tindex * 400 * 86400 + math.floor(n / #ids) * 1800
  return graphql_post(q, string.format(
    '{"i":{"clientMutationId":"u-%d-%d-%d","resourceId":"%s","start":"%s","end":"%s"}}',
    base, tindex, n, ids[(n % #ids) + 1], iso(start), iso(start + 1800)))
end
