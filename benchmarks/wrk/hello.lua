-- The anchors: Strawberry's hello world
dofile(os.getenv("WRK_DIR") .. "/common.lua")
function request() return graphql_post("{ hello }") end
