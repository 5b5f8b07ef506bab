-- Authenticated { __typename }: the gateway's fixed cost per request
dofile(os.getenv("WRK_DIR") .. "/common.lua")
function request() return graphql_post("{ __typename }") end
