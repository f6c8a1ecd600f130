-- wrk script for bench/pages.sh: a signed-in page (BENCH_COOKIE), or, with BENCH_VERIFY=1,
-- POST /api/v1/verify with many distinct valid tokens (as bench/verify_api.lua).
--
-- Reads BENCH_TOKENS (one token per line); each wrk thread walks the list from its own offset, so
-- consecutive requests carry different passports. Every response must be 200 with "result":"valid";
-- anything else is counted. At the end prints one machine-readable line:
--   RESULT rps=.. p50_ms=.. p90_ms=.. p99_ms=.. requests=.. non2xx3xx=.. socket_errors=.. not_valid=..
-- With BENCH_VERIFY unset (the /health run) it sends plain GETs and checks nothing but the status.

local verify = os.getenv("BENCH_VERIFY") == "1"
local tokens = {}
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  wrk.headers["User-Agent"] = "passport-bench/1"
  local cookie = os.getenv("BENCH_COOKIE")
  if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
  not_valid = 0
  if verify then
    for line in io.lines(os.getenv("BENCH_TOKENS")) do
      if #line > 0 then tokens[#tokens + 1] = line end
    end
    i = (id * 7919) % #tokens
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  if not verify then return wrk.format() end
  i = i % #tokens + 1
  return wrk.format(nil, nil, nil, '{"token":"' .. tokens[i] .. '"}')
end

function response(status, headers, body)
  if verify and (status ~= 200 or not string.find(body, '"result":"valid"', 1, true)) then
    not_valid = not_valid + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("not_valid") or 0) end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f requests=%d non2xx3xx=%d socket_errors=%d not_valid=%d\n",
    summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, bad))
end
