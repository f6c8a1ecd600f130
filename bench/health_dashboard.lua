-- wrk script for bench/run_health_dashboard.sh.
--
-- Sends the session cookie (BENCH_COOKIE) and a fixed User-Agent (BENCH_USER_AGENT) with every
-- request, and at the end prints one machine-readable line that the shell script parses:
--   RESULT rps=<requests/s> p50_ms=<median> p90_ms=<..> p99_ms=<..> requests=<n> non2xx3xx=<n> socket_errors=<n>
-- Latency percentiles come from wrk's own histogram (microseconds), converted to milliseconds.

local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
wrk.headers["User-Agent"] = os.getenv("BENCH_USER_AGENT") or "passport-bench"

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f requests=%d non2xx3xx=%d socket_errors=%d\n",
    summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
