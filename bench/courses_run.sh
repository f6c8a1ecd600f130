#!/usr/bin/env bash
# Courses benchmarks on a throw-away PostgreSQL server (see bench/README.md, "courses").
#   bash bench/courses_run.sh                      # 100,000 workers, 2,000 homes, 100,000-row import
#   bash bench/courses_run.sh --workers 1600000 --homes 30000   # England size (slow to generate)
set -euo pipefail
cd "$(dirname "$0")/.."
export PG_TEST_PORT="${PG_TEST_PORT:-55441}"
exec bash scripts/with-postgres.sh .venv/bin/python bench/courses_bench.py "$@"
