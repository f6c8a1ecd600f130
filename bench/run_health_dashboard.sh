#!/usr/bin/env bash
# Foundation benchmark: requests per second and median latency for the trivial health endpoint
# (GET /health) and for a signed-in dashboard (GET /), under gunicorn, with the demo data, in one run.
#
#   bash bench/run_health_dashboard.sh            # or: make bench-health
#
# By default it makes a throw-away SQLite database in a temporary directory. Give
# PASSPORT_DATABASE_URL=postgresql+psycopg://... to measure against PostgreSQL instead (the script
# migrates it and loads the demo there; see bench/README.md). Everything listens on 127.0.0.1 only.
#
# Settings (environment variables, all optional):
#   BENCH_DURATION=30s     length of each measured wrk run
#   BENCH_THREADS=2        wrk threads
#   BENCH_CONNECTIONS=20   wrk open connections
#   BENCH_WORKERS=2        gunicorn worker processes (sync workers)
#   BENCH_WARMUP=3s        unmeasured warm-up run per endpoint (0 to skip)
#   BENCH_ROUNDS=1         measured rounds (health then dashboard, alternating); the summary gives medians
#   BENCH_PORT=<free port> port gunicorn binds on 127.0.0.1
#   BENCH_EMAIL=<email>    who signs in (default: the demo registered manager)
#   BENCH_GIT_REF=<ref>    measure that commit (exported with git archive) instead of the working tree,
#                          e.g. BENCH_GIT_REF=HEAD while the working tree has half-finished changes
#   BENCH_KEEP=1           keep the temporary directory (database, gunicorn log, wrk output)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"
BIN="$root/.venv/bin"

duration="${BENCH_DURATION:-30s}"
threads="${BENCH_THREADS:-2}"
connections="${BENCH_CONNECTIONS:-20}"
workers="${BENCH_WORKERS:-2}"
warmup="${BENCH_WARMUP:-3s}"
rounds="${BENCH_ROUNDS:-1}"
user_agent="passport-bench/1"

die() { echo "bench: $*" >&2; exit 1; }

# --- tools -----------------------------------------------------------------------------------
for tool in gunicorn passport python; do
  [ -x "$BIN/$tool" ] || die "$BIN/$tool not found: run 'make install' first."
done
command -v curl >/dev/null || die "curl is needed."
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bench: wrk not found, installing Debian's wrk package" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  fi
  command -v wrk >/dev/null || die "wrk is needed (Debian/Ubuntu: sudo apt-get install wrk)."
fi

load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

# --- instance --------------------------------------------------------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/passport-bench.XXXXXX")"
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

app_dir="$root"
if [ -n "${BENCH_GIT_REF:-}" ]; then
  commit="$(git -C "$root" rev-parse --verify "$BENCH_GIT_REF^{commit}")" || die "no commit $BENCH_GIT_REF."
  mkdir "$tmp/src"
  git -C "$root" archive "$commit" | tar -x -C "$tmp/src"
  # The editable install's import hook comes after PYTHONPATH, so this copy of passport/ wins.
  export PYTHONPATH="$tmp/src${PYTHONPATH:+:$PYTHONPATH}"
  app_dir="$tmp/src"
  source_label="commit ${commit:0:12} ($BENCH_GIT_REF)"
else
  source_label="working tree at $(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo '?')"
  [ -z "$(git -C "$root" status --porcelain -- passport migrations wsgi.py 2>/dev/null)" ] \
    || source_label="$source_label plus uncommitted changes"
fi
if [ -n "${PASSPORT_DATABASE_URL:-}" ]; then
  db_label="${PASSPORT_DATABASE_URL%%://*} (given by PASSPORT_DATABASE_URL)"
else
  export PASSPORT_DATABASE_URL="sqlite:///$tmp/bench.sqlite"
  db_label="SQLite (temporary file)"
fi
port="${BENCH_PORT:-$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
base="http://127.0.0.1:$port"

if [ "${PASSPORT_ENV_NAME:-}" = production ]; then
  die "PASSPORT_ENV_NAME=production is set: this looks like a production shell. The benchmark loads demo
people into the database it is given; run it with a throw-away database instead (see bench/README.md)."
fi
# Development mode: the session cookie is not marked Secure, so curl and wrk can send it over plain
# HTTP on loopback. Nothing else in the request path depends on ENV_NAME.
export PASSPORT_ENV_NAME=development
export PASSPORT_SECRET_KEY="${PASSPORT_SECRET_KEY:-$("$BIN/python" -c 'import secrets; print(secrets.token_hex(32))')}"
export PASSPORT_PUBLIC_URL="$base"
export PASSPORT_KEY_DIR="$tmp/keys"

echo "bench: code: $source_label; database: $db_label" >&2
"$BIN/passport" db upgrade >&2
"$BIN/passport" demo >"$tmp/demo.txt"
email="${BENCH_EMAIL:-$(awk '/^registered manager /{print $3; exit}' "$tmp/demo.txt")}"
password="$(awk '/^[a-z ]+ +[^ ]+@[^ ]+ +[^ ]+$/{print $NF; exit}' "$tmp/demo.txt")"
[ -n "$email" ] && [ -n "$password" ] || die "could not read the demo sign-ins from 'passport demo'."

# --- gunicorn --------------------------------------------------------------------------------
(cd "$app_dir" && exec "$BIN/gunicorn" -w "$workers" -b "127.0.0.1:$port" --error-logfile "$tmp/gunicorn.log" \
  wsgi:app) &
gunicorn_pid=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "$base/health" 2>/dev/null && break
  kill -0 "$gunicorn_pid" 2>/dev/null || { cat "$tmp/gunicorn.log" >&2; die "gunicorn exited during start-up."; }
  sleep 0.2
done
curl -fsS -o /dev/null "$base/health" || { cat "$tmp/gunicorn.log" >&2; die "gunicorn did not answer /health."; }

# --- sign in once ----------------------------------------------------------------------------
jar="$tmp/cookies.txt"
curl -fsS -A "$user_agent" -c "$jar" -b "$jar" "$base/sign-in" -o "$tmp/sign-in.html"
csrf="$(grep -o 'name="csrf_token"[^>]*' "$tmp/sign-in.html" | sed -n 's/.*value="\([^"]*\)".*/\1/p' | head -n 1)"
[ -n "$csrf" ] || die "no csrf_token field on /sign-in."
status="$(curl -sS -A "$user_agent" -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' \
  --data-urlencode "email=$email" --data-urlencode "password=$password" --data-urlencode "csrf_token=$csrf" \
  "$base/sign-in")"
[ "$status" = 302 ] || die "sign-in as $email answered $status, expected a 302 redirect."
# Netscape cookie jar: HttpOnly cookies are written with a '#HttpOnly_' prefix on the domain column.
cookie="$(sed 's/^#HttpOnly_//' "$jar" | awk -F'\t' 'NF >= 7 && $1 !~ /^#/ {printf "%s%s=%s", sep, $6, $7; sep="; "}')"
[ -n "$cookie" ] || die "sign-in set no cookie."
signed_in() { curl -fsS -A "$user_agent" -H "Cookie: $cookie" "$base/" -o "$tmp/dashboard.html" && grep -q 'Hello,' "$tmp/dashboard.html"; }
signed_in || die "GET / with the session cookie did not show the signed-in dashboard."
page_bytes="$(wc -c <"$tmp/dashboard.html" | tr -d ' ')"
export BENCH_COOKIE="$cookie" BENCH_USER_AGENT="$user_agent"

# --- measure ---------------------------------------------------------------------------------
# CPU time (user + system, in clock ticks) used so far by gunicorn's master and workers. Other
# processes on the machine slow the run down but do not add to this, so CPU per request is the steadiest
# figure when the machine is busy. (A PostgreSQL server's own CPU is not included.)
server_ticks() {
  local total=0 pid
  for pid in "$gunicorn_pid" $(ps -o pid= --ppid "$gunicorn_pid"); do
    [ -r "/proc/$pid/stat" ] || continue
    total=$(( total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}') ))
  done
  echo "$total"
}
run_wrk() {  # output-name path cookie(yes|no) duration
  local name="$1" path="$2" with_cookie="$3" d="$4" c="" before
  [ "$with_cookie" = yes ] && c="$cookie"
  before="$(server_ticks)"
  BENCH_COOKIE="$c" wrk -t "$threads" -c "$connections" -d "$d" --timeout 10s --latency -s "$here/health_dashboard.lua" \
    "$base$path" >"$tmp/wrk-$name.txt"
  echo "SERVER_CPU ticks=$(( $(server_ticks) - before )) hz=$(getconf CLK_TCK)" >>"$tmp/wrk-$name.txt"
  grep -q '^RESULT ' "$tmp/wrk-$name.txt" || { cat "$tmp/wrk-$name.txt" >&2; die "no result from wrk for $name."; }
}
if [ "$warmup" != 0 ]; then
  echo "bench: warming up ($warmup per endpoint)" >&2
  run_wrk warmup-health /health no "$warmup"
  run_wrk warmup-dashboard / yes "$warmup"
fi
# Health and dashboard alternate, so a burst of unrelated load on the machine hits both alike.
for round in $(seq "$rounds"); do
  echo "bench: round $round/$rounds: GET /health for $duration ($threads threads, $connections connections)" >&2
  run_wrk "health-$round" /health no "$duration"
  echo "bench: round $round/$rounds: GET / signed in as $email for $duration" >&2
  run_wrk "dashboard-$round" / yes "$duration"
done
signed_in || die "the session stopped working during the run: the dashboard figure is not a signed-in one."
load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

for f in "$tmp"/wrk-health-*.txt "$tmp"/wrk-dashboard-*.txt; do
  echo "----- $(basename "$f" .txt)" >&2
  cat "$f" >&2
done

BENCH_TMP="$tmp" BENCH_ROUNDS="$rounds" BENCH_SOURCE="$source_label" BENCH_PAGE_BYTES="$page_bytes" \
BENCH_EMAIL="$email"  BENCH_DB_LABEL="$db_label" BENCH_WORKERS="$workers" \
BENCH_THREADS="$threads" BENCH_CONNECTIONS="$connections" BENCH_DURATION="$duration" \
BENCH_LOAD="$load_before -> $load_after" BENCH_GUNICORN="$("$BIN/gunicorn" --version 2>&1 | awk '{print $3}' | tr -d ')')" \
BENCH_CPU="$(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)" \
"$BIN/python" - <<'PY'
import os, re, statistics, sys, time

env = os.environ
rounds = int(env["BENCH_ROUNDS"])


def results(name):
    out = []
    for r in range(1, rounds + 1):
        with open(os.path.join(env["BENCH_TMP"], f"wrk-{name}-{r}.txt")) as fh:
            line = next(l for l in fh if l.startswith("RESULT "))
            fh.seek(0)
            cpu = next(l for l in fh if l.startswith("SERVER_CPU "))
        row = {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", line)}
        c = {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", cpu)}
        row["cpu_ms"] = c["ticks"] / c["hz"] * 1000 / max(row["requests"], 1)
        out.append(row)
    return out


h, d = results("health"), results("dashboard")
bad = sum(x["non2xx3xx"] for x in h + d)
if bad:
    sys.exit(f"bench: {int(bad)} responses were not 2xx/3xx; the figures are not valid (BENCH_KEEP=1 keeps the logs).")
med = lambda rows, k: statistics.median(x[k] for x in rows)
h_rps, h_p50, h_p99, h_cpu = med(h, "rps"), med(h, "p50_ms"), med(h, "p99_ms"), med(h, "cpu_ms")
d_rps, d_p50, d_p99, d_cpu = med(d, "rps"), med(d, "p50_ms"), med(d, "p99_ms"), med(d, "cpu_ms")
errs = lambda rows: int(sum(x["socket_errors"] for x in rows))
each = "" if rounds == 1 else f" x {rounds} rounds, alternating; medians of the rounds"
print()
print("Foundation benchmark: health vs signed-in dashboard")
print(f"  date:       {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
print(f"  machine:    {env['BENCH_CPU']}; load average (1/5/15 min) {env['BENCH_LOAD']}")
print(f"  code:       {env['BENCH_SOURCE']}")
print(f"  database:   {env['BENCH_DB_LABEL']}, demo data")
print(f"  dashboard:  signed in as {env['BENCH_EMAIL']}; page {int(env['BENCH_PAGE_BYTES']):,} bytes")
print(f"  server:     gunicorn {env['BENCH_GUNICORN']}, {env['BENCH_WORKERS']} sync workers, 127.0.0.1")
print(f"  load:       wrk {env['BENCH_THREADS']} threads, {env['BENCH_CONNECTIONS']} connections, "
      f"{env['BENCH_DURATION']} per endpoint{each} (wrk on the same machine)")
print(f"  {'endpoint':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'server CPU ms/req':>19}{'socket errors':>15}")
print(f"  {'GET /health':<28}{h_rps:>10.1f}{h_p50:>10.2f}{h_p99:>10.2f}{h_cpu:>19.2f}{errs(h):>15}")
print(f"  {'GET / (signed-in dashboard)':<28}{d_rps:>10.1f}{d_p50:>10.2f}{d_p99:>10.2f}{d_cpu:>19.2f}{errs(d):>15}")
if rounds > 1:
    print("  each round (req/s health / dashboard): "
          + ", ".join(f"{a['rps']:.0f} / {b['rps']:.0f}" for a, b in zip(h, d)))
print(f"  ratio dashboard/health: throughput {d_rps / h_rps:.3f} (health serves {h_rps / d_rps:.1f}x as many "
      f"requests per second); median latency {d_p50 / h_p50:.1f}x; server CPU per request {d_cpu / h_cpu:.1f}x")
PY
