#!/usr/bin/env bash
# Page budgets: every main signed-in page and the verify API against GET /health, in one run, under
# gunicorn, with wrk. Reports req/s, the ratio to /health, p50/p99 latency and server CPU per request.
#
#   bash bench/pages.sh                          # SQLite in a temporary directory
#   BENCH_VENV=/path/to/venv bash bench/pages.sh  # a virtualenv other than ./.venv
#
# Data: the demo, with The Oaks Care Home grown to 60 people (bench/pages_setup.py), its registered
# manager for the staff pages and its demo worker for the worker pages; 2,000 distinct valid passports
# for the verify API (bench/verify_tokens.py).
#
# Settings (environment variables, all optional):
#   BENCH_DURATION=15s  BENCH_CONNECTIONS=20  BENCH_THREADS=2  BENCH_WORKERS=2 (gunicorn sync workers)
#   BENCH_WARMUP=2s  BENCH_PEOPLE=60  BENCH_ONLY="health verify"  (names to run; default all)
#   BENCH_KEEP=1 (keep the temporary directory)
#   Give PASSPORT_VERIFY_FAST_PATH=false (or true) to choose the verify implementation, where one exists.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"
BIN="${BENCH_VENV:-$root/.venv}/bin"
duration="${BENCH_DURATION:-15s}"
connections="${BENCH_CONNECTIONS:-20}"
threads="${BENCH_THREADS:-2}"
workers="${BENCH_WORKERS:-2}"
warmup="${BENCH_WARMUP:-2s}"
people="${BENCH_PEOPLE:-60}"
ua="passport-bench/1"

die() { echo "bench: $*" >&2; exit 1; }
for tool in gunicorn passport python; do [ -x "$BIN/$tool" ] || die "$BIN/$tool not found (set BENCH_VENV)."; done
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  fi
  command -v wrk >/dev/null || die "wrk is needed (Debian/Ubuntu: sudo apt-get install wrk)."
fi
[ "${PASSPORT_ENV_NAME:-}" = production ] && die "refusing to run in a production shell; use a throw-away database."

tmp="$(mktemp -d "${TMPDIR:-/tmp}/passport-pages-bench.XXXXXX")"
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
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export PASSPORT_ENV_NAME=development PASSPORT_PUBLIC_URL="$base" PASSPORT_KEY_DIR="$tmp/keys"
export PASSPORT_SECRET_KEY="$("$BIN/python" -c 'import secrets; print(secrets.token_hex(32))')"
# One load generator is one client: lift the per-client verify limit (the limiter stays in the path).
export PASSPORT_VERIFY_RATE_LIMIT="100000000 per minute"

"$BIN/passport" db upgrade >&2
"$BIN/passport" demo >"$tmp/demo.txt"
password="$(awk '/^[a-z ]+ +[^ ]+@[^ ]+ +[^ ]+$/{print $NF; exit}' "$tmp/demo.txt")"
"$BIN/python" "$here/pages_setup.py" "$people" >"$tmp/pages.tsv"
"$BIN/python" "$here/verify_tokens.py" "$tmp/tokens.txt" 2000 >&2

(exec "$BIN/gunicorn" -w "$workers" -b "127.0.0.1:$port" --error-logfile "$tmp/gunicorn.log" wsgi:app) &
gunicorn_pid=$!
for _ in $(seq 100); do curl -fsS -o /dev/null "$base/health" 2>/dev/null && break; sleep 0.2; done
curl -fsS -o /dev/null "$base/health" || { cat "$tmp/gunicorn.log" >&2; die "gunicorn did not start."; }

sign_in() {  # email -> prints a Cookie header value
  local jar="$tmp/jar-$1" csrf status
  curl -fsS -A "$ua" -c "$jar" -b "$jar" "$base/sign-in" -o "$tmp/sign-in.html"
  csrf="$(grep -o 'name="csrf_token"[^>]*' "$tmp/sign-in.html" | sed -n 's/.*value="\([^"]*\)".*/\1/p' | head -n 1)"
  status="$(curl -sS -A "$ua" -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' --data-urlencode "email=$1" \
    --data-urlencode "password=$password" --data-urlencode "csrf_token=$csrf" "$base/sign-in")"
  [ "$status" = 302 ] || die "sign-in as $1 answered $status."
  sed 's/^#HttpOnly_//' "$jar" | awk -F'\t' 'NF >= 7 && $1 !~ /^#/ {printf "%s%s=%s", sep, $6, $7; sep="; "}'
}

server_ticks() {
  local total=0 pid
  for pid in "$gunicorn_pid" $(ps -o pid= --ppid "$gunicorn_pid"); do
    [ -r "/proc/$pid/stat" ] || continue
    total=$(( total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}') ))
  done
  echo "$total"
}
run() {  # name path cookie verify(0|1) duration
  local before
  before="$(server_ticks)"
  BENCH_COOKIE="$3" BENCH_VERIFY="$4" BENCH_TOKENS="$tmp/tokens.txt" wrk -t "$threads" -c "$connections" \
    -d "$5" --timeout 10s --latency -s "$here/pages.lua" "$base$2" >"$tmp/wrk-$1.txt"
  echo "SERVER_CPU ticks=$(( $(server_ticks) - before )) hz=$(getconf CLK_TCK)" >>"$tmp/wrk-$1.txt"
  grep -q '^RESULT ' "$tmp/wrk-$1.txt" || { cat "$tmp/wrk-$1.txt" >&2; die "no result from wrk for $1."; }
}
wanted() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }

declare -A cookies
list=("health	-	/health")
while IFS=$'\t' read -r name who path; do list+=("$name	$who	$path"); done <"$tmp/pages.tsv"
list+=("verify	-	/api/v1/verify")
order=()
for line in "${list[@]}"; do
  IFS=$'\t' read -r name who path <<<"$line"
  wanted "$name" || [ "$name" = health ] || continue
  cookie=""
  if [ "$who" != - ]; then
    [ -n "${cookies[$who]:-}" ] || cookies[$who]="$(sign_in "$who")"
    cookie="${cookies[$who]}"
    code="$(curl -sS -A "$ua" -H "Cookie: $cookie" -o "$tmp/page-$name.html" -w '%{http_code}' "$base$path")"
    [ "$code" = 200 ] || die "$path as $who answered $code."
  fi
  verify=0; [ "$name" = verify ] && verify=1
  [ "$warmup" != 0 ] && run "warm-$name" "$path" "$cookie" "$verify" "$warmup"
  echo "bench: $name: $path for $duration" >&2
  run "$name" "$path" "$cookie" "$verify" "$duration"
  order+=("$name	$path")
done
printf '%s\n' "${order[@]}" >"$tmp/order.tsv"

# Raw ES256 floor: cryptography's verify of one passport-sized signature, in this process.
floor="$("$BIN/python" - <<'PY'
import time
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
key = ec.generate_private_key(ec.SECP256R1())
msg = b"x" * 700
sig = key.sign(msg, ec.ECDSA(hashes.SHA256()))
pub = key.public_key()
n = 3000
t = time.process_time()
for _ in range(n):
    pub.verify(sig, msg, ec.ECDSA(hashes.SHA256()))
print(f"{(time.process_time() - t) / n * 1e6:.0f}")
PY
)"

BENCH_TMP="$tmp" BENCH_DB="$db_label" BENCH_WORKERS="$workers" BENCH_CONNECTIONS="$connections" \
BENCH_DURATION="$duration" BENCH_FLOOR_US="$floor" BENCH_PEOPLE="$people" \
BENCH_CPU="$(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
BENCH_SOURCE="$(git rev-parse --short=12 HEAD 2>/dev/null || echo '?')$([ -z "$(git status --porcelain --untracked-files=no -- passport 2>/dev/null)" ] || echo ' plus uncommitted changes')" \
"$BIN/python" - <<'PY'
import os, re, sys, time
env = os.environ
def load(name):
    text = open(os.path.join(env["BENCH_TMP"], f"wrk-{name}.txt")).read()
    row = {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", next(l for l in text.splitlines() if l.startswith("RESULT ")))}
    cpu = {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", next(l for l in text.splitlines() if l.startswith("SERVER_CPU ")))}
    row["cpu_ms"] = cpu["ticks"] / cpu["hz"] * 1000 / max(row["requests"], 1)
    return row
order = [l.split("\t") for l in open(os.path.join(env["BENCH_TMP"], "order.tsv")).read().splitlines()]
rows = {name: load(name) for name, _ in order}
h = rows["health"]
targets = {"dashboard": 0.25, "my-passport": 0.2, f"matrix-{env['BENCH_PEOPLE']}": 0.1}
print()
print("Page budgets: signed-in pages and the verify API vs GET /health, one run")
print(f"  date:     {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; code {env['BENCH_SOURCE']}")
print(f"  machine:  {env['BENCH_CPU']}; load average {open('/proc/loadavg').read()[:14]} at the end (wrk on the same machine)")
print(f"  server:   gunicorn, {env['BENCH_WORKERS']} sync workers; database {env['BENCH_DB']}; "
      f"wrk {env['BENCH_CONNECTIONS']} connections, {env['BENCH_DURATION']} per endpoint")
print(f"  {'endpoint':<18}{'path':<36}{'req/s':>8}{'ratio':>7}{'p50 ms':>8}{'p99 ms':>8}{'CPU ms/req':>11}{'errors':>7}  target")
bad = 0
for name, path in order:
    r = rows[name]
    errors = int(r["non2xx3xx"] + r["socket_errors"] + r.get("not_valid", 0))
    bad += errors
    ratio = r["rps"] / h["rps"]
    t = targets.get(name)
    verdict = "" if t is None else f"ratio >= {t}: {'met' if ratio >= t else 'NOT met'}"
    if name != "health":
        verdict += ("; " if verdict else "") + f"p99 < 150: {'met' if r['p99_ms'] < 150 else 'NOT met'}"
    print(f"  {name:<18}{path[:35]:<36}{r['rps']:>8.1f}{ratio:>7.3f}{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}"
          f"{r['cpu_ms']:>11.2f}{errors:>7}  {verdict}")
if "verify" in rows:
    print(f"  verify: {rows['verify']['cpu_ms'] * 1000:.0f} us server CPU per verification; raw ES256 verify "
          f"(cryptography) {env['BENCH_FLOOR_US']} us")
if bad:
    sys.exit(f"bench: {bad} errors: the run is not clean (BENCH_KEEP=1 keeps the logs)")
PY
