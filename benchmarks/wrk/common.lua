-- Shared by the gateway scripts: count answers by kind, report them as one JSON line.
-- Each wrk thread has its own Lua state; setup() keeps the threads so done() can sum them.
local threads = {}
function setup(thread)
  thread:set("tindex", #threads)
  threads[#threads + 1] = thread
end

counts = {ok = 0, slot_unavailable = 0, contended = 0, other_error = 0, http_error = 0, http_5xx = 0}
function response(status, headers, body)
  if status >= 500 then
    counts.http_5xx = counts.http_5xx + 1
  elseif status ~= 200 then
    counts.http_error = counts.http_error + 1
  elseif string.find(body, '"SLOT_UNAVAILABLE"', 1, true) then
    counts.slot_unavailable = counts.slot_unavailable + 1
  elseif string.find(body, '"CONTENDED"', 1, true) then
    counts.contended = counts.contended + 1
  elseif string.find(body, '"errors"', 1, true) or string.find(body, '"code"', 1, true) then
    counts.other_error = counts.other_error + 1
  else
    counts.ok = counts.ok + 1
  end
end

function done(summary, latency, requests)
  local total = {ok = 0, slot_unavailable = 0, contended = 0, other_error = 0, http_error = 0, http_5xx = 0}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do total[k] = total[k] + v end
  end
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
    '"socket_errors":%d,"ok":%d,"slot_unavailable":%d,"contended":%d,"other_error":%d,"http_error":%d,' ..
    '"http_5xx":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    total.ok, total.slot_unavailable, total.contended, total.other_error, total.http_error, total.http_5xx))
end

function graphql_post(query, variables_json)
  local body
  if variables_json then
    body = string.format('{"query":"%s","variables":%s}', query, variables_json)
  else
    body = string.format('{"query":"%s"}', query)
  end
  return wrk.format("POST", nil, nil, body)
end

function iso(epoch)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", epoch)
end

wrk.headers["Content-Type"] = "application/json"
if os.getenv("API_KEY") then
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("API_KEY")
end
