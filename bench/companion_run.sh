#!/usr/bin/env bash
# Workforce movement benchmark on a throw-away PostgreSQL server (see bench/README.md, "companion").
#   bash bench/companion_run.sh                         # 2,000 homes, 100,000 workers
#   PY=/path/to/python bash bench/companion_run.sh --workers 5000 --homes 100
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
exec bash scripts/with-postgres.sh "$PY" bench/companion_bench.py "$@"
