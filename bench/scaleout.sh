#!/usr/bin/env bash
# Scale-out test: two app instances (gunicorn) behind nginx, one PostgreSQL, one Redis. 50 verifiers and
# 20 signed-in users for 60 s; one instance is killed (SIGKILL) half-way. Reports the errors clients saw
# (target 0: nginx retries on the other instance, see docs/deploy.md) and checks that the verify limit
# and the sign-in throttle hold across both instances (their counters are in Redis).
#
#   bash bench/scaleout.sh
#   SCALE_DURATION=60 SCALE_VERIFIERS=50 SCALE_USERS=20 SCALE_WORKERS=2 SCALE_THREADS=4 bash bench/scaleout.sh
#   BENCH_VENV=/path/to/venv   a virtualenv other than ./.venv;   BENCH_KEEP=1 keeps the logs
#   SCALE_WORKER_CMD="..."     a job-queue worker command to start next to the apps (none by default)
#
# Needs nginx and redis-server (installed from Debian with apt-get when running as root), and the
# PostgreSQL server binaries (scripts/with-postgres.sh starts a throw-away server).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"
BIN="${BENCH_VENV:-$root/.venv}/bin"
die() { echo "scaleout: $*" >&2; exit 1; }
for tool in gunicorn passport python; do [ -x "$BIN/$tool" ] || die "$BIN/$tool not found (set BENCH_VENV)."; done
[ "${PASSPORT_ENV_NAME:-}" = production ] && die "refusing to run in a production shell; use a throw-away database."

if [ -z "${PASSPORT_TEST_DATABASE_URL:-}" ]; then  # a throw-away PostgreSQL server, then this script again
  exec bash "$root/scripts/with-postgres.sh" bash "$0" "$@"
fi
need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || die "install ${need[*]} first."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

duration="${SCALE_DURATION:-60}"; verifiers="${SCALE_VERIFIERS:-50}"; users="${SCALE_USERS:-20}"
workers="${SCALE_WORKERS:-2}"; threads="${SCALE_THREADS:-4}"; verify_limit=3000
free_port() { "$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
tmp="$(mktemp -d "${TMPDIR:-/tmp}/passport-scaleout.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "scaleout: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

redis_port="$(free_port)"; proxy_port="$(free_port)"; app_a="$(free_port)"; app_b="$(free_port)"
base="http://127.0.0.1:$proxy_port"
setsid redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --logfile "$tmp/redis.log" &
pids+=($!)

export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export PASSPORT_DATABASE_URL="$PASSPORT_TEST_DATABASE_URL" PASSPORT_ENV_NAME=development
export PASSPORT_PUBLIC_URL="$base" PASSPORT_KEY_DIR="$tmp/keys" PASSPORT_PROXY_COUNT=1
export PASSPORT_SECRET_KEY="$("$BIN/python" -c 'import secrets; print(secrets.token_hex(32))')"
export PASSPORT_RATELIMIT_STORAGE_URI="redis://127.0.0.1:$redis_port/0"
export PASSPORT_VERIFY_RATE_LIMIT="$verify_limit per hour"
export PASSPORT_VERIFY_CACHE_DIR="$tmp/verify-cache"

"$BIN/passport" db upgrade >&2
"$BIN/passport" demo >"$tmp/demo.txt"
password="$(awk '/^[a-z ]+ +[^ ]+@[^ ]+ +[^ ]+$/{print $NF; exit}' "$tmp/demo.txt")"
grep -o '[^ ]*@[^ ]*' "$tmp/demo.txt" | sort -u | awk -v p="$password" '{print $1, p}' >"$tmp/accounts.txt"
[ -s "$tmp/accounts.txt" ] || die "no demo sign-ins found."
"$BIN/python" "$here/verify_tokens.py" "$tmp/tokens.txt" 2000 >&2

start_app() {  # name port
  setsid "$BIN/gunicorn" -k gthread -w "$workers" --threads "$threads" -b "127.0.0.1:$2" \
    --error-logfile "$tmp/gunicorn-$1.log" --capture-output --graceful-timeout 5 wsgi:app &
  pids+=($!)
}
start_app a "$app_a"; pid_a="${pids[-1]}"
start_app b "$app_b"
if [ -n "${SCALE_WORKER_CMD:-}" ]; then setsid bash -c "$SCALE_WORKER_CMD" >"$tmp/worker.log" 2>&1 & pids+=($!); fi

mkdir -p "$tmp/nginx"
nginx_user=""; [ "$(id -u)" = 0 ] && nginx_user="user root;"  # its workers write request bodies under $tmp
cat >"$tmp/nginx.conf" <<CONF
$nginx_user
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 2048; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body; proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi; uwsgi_temp_path $tmp/nginx/uwsgi; scgi_temp_path $tmp/nginx/scgi;
  upstream passport {
    server 127.0.0.1:$app_a max_fails=1 fail_timeout=10s;
    server 127.0.0.1:$app_b max_fails=1 fail_timeout=10s;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$proxy_port;
    client_max_body_size 10m;
    client_body_buffer_size 1m;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$http_host;
    proxy_set_header X-Forwarded-For \$remote_addr;
    proxy_set_header X-Forwarded-Proto \$scheme;
    proxy_set_header X-Forwarded-Host \$http_host;
    proxy_connect_timeout 2s;
    proxy_read_timeout 60s;
    # an instance that is gone: GET/HEAD are tried on the other one (nginx never retries a POST by default)
    proxy_next_upstream error timeout http_502 http_504;
    proxy_next_upstream_tries 2;
    add_header X-Upstream \$upstream_addr always;
    location / { proxy_pass http://passport; }
    # verifying changes nothing but a check-log row, so a verify POST may be retried too
    location /api/v1/verify {
      proxy_pass http://passport;
      proxy_next_upstream error timeout http_502 http_504 non_idempotent;
    }
  }
}
CONF
setsid "$NGINX" -c "$tmp/nginx.conf" -p "$tmp/nginx" -e "$tmp/nginx/error.log" &
pids+=($!)
for port in "$app_a" "$app_b" "$proxy_port"; do
  for _ in $(seq 150); do curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && break; sleep 0.2; done
  curl -fsS -o /dev/null "http://127.0.0.1:$port/health" || { cat "$tmp"/gunicorn-*.log "$tmp/nginx/error.log" >&2; die "port $port did not answer."; }
done
redis-cli -p "$redis_port" ping >/dev/null || die "redis did not start."

echo "scaleout: nginx $base -> gunicorn a :$app_a (pid $pid_a), b :$app_b; PostgreSQL; Redis :$redis_port" >&2
echo "scaleout: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run; $(date -u '+%Y-%m-%d %H:%M UTC')" >&2
set +e
"$BIN/python" "$here/scaleout_load.py" "$base" "$tmp/tokens.txt" "$tmp/accounts.txt" --kill-pgid "$pid_a" \
  --duration "$duration" --verifiers "$verifiers" --users "$users" --verify-limit "$verify_limit"
rc=$?
set -e
echo "scaleout: Redis keys after the run: $(redis-cli -p "$redis_port" dbsize)" >&2
echo "scaleout: load average $(cut -d' ' -f1-3 /proc/loadavg) at the end" >&2
exit $rc
