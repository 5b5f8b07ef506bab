-- availability of one resource over a week
dofile(os.getenv("WRK_DIR") .. "/common.lua")
local resource = os.getenv("WEEK_RESOURCE")
local base = tonumber(os.getenv("BASE_EPOCH"))
local q = "query($ids: [ID!]!, $w: TimeWindowInput!) { availability(resourceIds: $ids, window: $w) " ..
          "{ version busy { start end } free { start end } } }"
local vars = string.format('{"ids":["%s"],"w":{"start":"%s","end":"%s"}}', resource, iso(base), iso(base + 7 * 86400))
function request() return graphql_post(q, vars) end
