#!/usr/bin/env bash
# Verify benchmark: POST /api/v1/verify with many distinct valid passports vs GET /health, under gunicorn,
# measured with wrk in the same run. Prints requests per second for both, their ratio, p50/p99 latency at
# 50 connections, and every error (non-200, socket errors, any result other than "valid").
#
#   bash bench/verify_api.sh
#   PG_TEST_PORT=55441 bash scripts/with-postgres.sh \
#       bash -c 'PASSPORT_DATABASE_URL=$PASSPORT_TEST_DATABASE_URL bash bench/verify_api.sh'
#
# Settings (environment variables, all optional):
#   BENCH_DURATION=60s  BENCH_CONNECTIONS=50  BENCH_THREADS=2  BENCH_WORKERS=4 (gunicorn sync workers)
#   BENCH_TOKENS_COUNT=5000 (distinct tokens)  BENCH_WARMUP=5s  BENCH_KEEP=1 (keep the temporary directory)
#   BENCH_ROUNDS=1 (with more, health and verify alternate and the summary gives medians: steadier when the
#                   machine is busy; every round still has to be error-free)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"
BIN="$root/.venv/bin"
duration="${BENCH_DURATION:-60s}"
connections="${BENCH_CONNECTIONS:-50}"
threads="${BENCH_THREADS:-2}"
workers="${BENCH_WORKERS:-4}"
count="${BENCH_TOKENS_COUNT:-5000}"
warmup="${BENCH_WARMUP:-5s}"
rounds="${BENCH_ROUNDS:-1}"

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$BIN/gunicorn" ] || die "run 'make install' first."
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  fi
  command -v wrk >/dev/null || die "wrk is needed (Debian/Ubuntu: sudo apt-get install wrk)."
fi
[ "${PASSPORT_ENV_NAME:-}" = production ] && die "refusing to run in a production shell; use a throw-away database."

tmp="$(mktemp -d "${TMPDIR:-/tmp}/passport-verify-bench.XXXXXX")"
gunicorn_pid=""
cleanup() {
  if [ -n "$gunicorn_pid" ] && kill -0 "$gunicorn_pid" 2>/dev/null; then
    kill -TERM "$gunicorn_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$gunicorn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$gunicorn_pid" 2>/dev/null || true
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${PASSPORT_DATABASE_URL:-}" ]; then db_label="${PASSPORT_DATABASE_URL%%://*}"; else
  export PASSPORT_DATABASE_URL="sqlite:///$tmp/bench.sqlite"; db_label="SQLite (temporary file)"; fi
port="$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export PASSPORT_ENV_NAME=development PASSPORT_PUBLIC_URL="$base" PASSPORT_KEY_DIR="$tmp/keys"
export PASSPORT_SECRET_KEY="$("$BIN/python" -c 'import secrets; print(secrets.token_hex(32))')"
# The per-client limit would (rightly) stop one load generator; the limiter itself stays in the path.
export PASSPORT_VERIFY_RATE_LIMIT="100000000 per minute"

"$BIN/passport" db upgrade >&2
"$BIN/python" "$here/verify_tokens.py" "$tmp/tokens.txt" "$count" >&2

(exec "$BIN/gunicorn" -w "$workers" -b "127.0.0.1:$port" --error-logfile "$tmp/gunicorn.log" wsgi:app) &
gunicorn_pid=$!
for _ in $(seq 100); do curl -fsS -o /dev/null "$base/health" 2>/dev/null && break; sleep 0.2; done
curl -fsS -o /dev/null "$base/health" || { cat "$tmp/gunicorn.log" >&2; die "gunicorn did not start."; }
first="$(head -n 1 "$tmp/tokens.txt")"
curl -fsS -H 'Content-Type: application/json' -d "{\"token\":\"$first\"}" "$base/api/v1/verify" | grep -q '"result":"valid"' \
  || die "the first token does not verify as valid."

server_ticks() {  # CPU (user + system, clock ticks) used so far by gunicorn's master and workers
  local total=0 pid
  for pid in "$gunicorn_pid" $(ps -o pid= --ppid "$gunicorn_pid"); do
    [ -r "/proc/$pid/stat" ] || continue
    total=$(( total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}') ))
  done
  echo "$total"
}
run() {  # name path verify(0|1) duration
  local before
  before="$(server_ticks)"
  BENCH_VERIFY="$3" BENCH_TOKENS="$tmp/tokens.txt" wrk -t "$threads" -c "$connections" -d "$4" --timeout 10s \
    --latency -s "$here/verify_api.lua" "$base$2" >"$tmp/wrk-$1.txt"
  echo "SERVER_CPU ticks=$(( $(server_ticks) - before )) hz=$(getconf CLK_TCK)" >>"$tmp/wrk-$1.txt"
  grep -q '^RESULT ' "$tmp/wrk-$1.txt" || { cat "$tmp/wrk-$1.txt" >&2; die "no result from wrk for $1."; }
}
if [ "$warmup" != 0 ]; then run warm-health /health 0 "$warmup"; run warm-verify /api/v1/verify 1 "$warmup"; fi
for round in $(seq "$rounds"); do
  echo "bench: round $round/$rounds: GET /health for $duration ($connections connections)" >&2
  run "health-$round" /health 0 "$duration"
  echo "bench: round $round/$rounds: POST /api/v1/verify for $duration ($count distinct tokens)" >&2
  run "verify-$round" /api/v1/verify 1 "$duration"
done
checks="$("$BIN/python" - <<'PY'
from passport import create_app, db
import sqlalchemy as sa
from passport.verify.models import VerificationCheck
app = create_app()
with app.app_context():
    print(db.session.scalar(sa.select(sa.func.count()).select_from(VerificationCheck)))
PY
)"

BENCH_TMP="$tmp" BENCH_DB="$db_label" BENCH_WORKERS="$workers" BENCH_CONNECTIONS="$connections" \
BENCH_DURATION="$duration" BENCH_COUNT="$count" BENCH_CHECKS="$checks" BENCH_ROUNDS="$rounds" \
BENCH_CPU="$(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
BENCH_SOURCE="$(git rev-parse --short=12 HEAD 2>/dev/null || echo '?')" "$BIN/python" - <<'PY'
import os, re, statistics, sys, time
env = os.environ
rounds = int(env["BENCH_ROUNDS"])
def load_round(name):
    text = open(os.path.join(env["BENCH_TMP"], f"wrk-{name}.txt")).read()
    line = next(l for l in text.splitlines() if l.startswith("RESULT "))
    row = {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", line)}
    cpu = {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", next(
        l for l in text.splitlines() if l.startswith("SERVER_CPU ")))}
    row["cpu_ms"] = cpu["ticks"] / cpu["hz"] * 1000 / max(row["requests"], 1)
    return row
def load(name):
    rows = [load_round(f"{name}-{r}") for r in range(1, rounds + 1)]
    out = {k: statistics.median(x[k] for x in rows) for k in rows[0]}
    for k in ("requests", "non2xx3xx", "socket_errors", "not_valid"):
        if k in rows[0]:
            out[k] = sum(x[k] for x in rows)
    out["each"] = [x["rps"] for x in rows]
    return out
h, v = load("health"), load("verify")
print()
print("Verify API benchmark: POST /api/v1/verify (distinct valid passports) vs GET /health")
print(f"  date:      {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; code {env['BENCH_SOURCE']}")
print(f"  machine:   {env['BENCH_CPU']} (wrk on the same machine)")
print(f"  server:    gunicorn, {env['BENCH_WORKERS']} sync workers; database {env['BENCH_DB']}")
print(f"  load:      wrk {env['BENCH_CONNECTIONS']} connections, {env['BENCH_DURATION']} per endpoint"
      + (f" x {rounds} rounds, alternating (medians; requests and errors summed)" if rounds > 1 else "")
      + f", {int(float(env['BENCH_COUNT'])):,} distinct tokens; load average {open('/proc/loadavg').read()[:14]}")
print(f"  {'endpoint':<22}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}{'server CPU ms/req':>19}")
for name, r in (("GET /health", h), ("POST /api/v1/verify", v)):
    errors = int(r["non2xx3xx"] + r["socket_errors"] + r.get("not_valid", 0))
    print(f"  {name:<22}{r['rps']:>10.1f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{int(r['requests']):>10}{errors:>8}"
          f"{r['cpu_ms']:>19.2f}")
print(f"  ratio verify/health: {v['rps'] / h['rps']:.3f} (target >= 0.7); server CPU per request "
      f"{v['cpu_ms'] / h['cpu_ms']:.2f}x health's")
if rounds > 1:
    print("  each round (req/s health / verify): " + ", ".join(f"{a:.0f} / {b:.0f}" for a, b in zip(h["each"], v["each"])))
print(f"  checks logged: {env['BENCH_CHECKS']} (every verification writes one check-log row)")
bad = int(v["non2xx3xx"] + v["socket_errors"] + v["not_valid"] + h["non2xx3xx"] + h["socket_errors"])
if bad:
    sys.exit(f"bench: {bad} errors: the run is not clean (BENCH_KEEP=1 keeps the logs)")
PY
