#!/usr/bin/env bash
# The whole suite: SQLite, then a real PostgreSQL server, then the browser tests in Chromium.
# A part that cannot run says so loudly and fails the run, so CI never passes by skipping.
set -uo pipefail
PY=.venv/bin/python
status=0

echo "=== 1/3 tests on SQLite ==="
$PY -m pytest -m "not browser" -q || status=1

echo "=== 2/3 tests on PostgreSQL ==="
bash scripts/with-postgres.sh $PY -m pytest -m "not browser" -q
rc=$?
if [ $rc -eq 3 ]; then echo "!!! PostgreSQL part SKIPPED: see the message above !!!"; status=1; elif [ $rc -ne 0 ]; then status=1; fi

echo "=== 3/3 browser tests in Chromium ==="
bash scripts/ensure-chromium.sh
rc=$?
if [ $rc -eq 0 ]; then
  $PY -m pytest -m browser -q || status=1
else
  echo "!!! Browser part SKIPPED: see the message above !!!"; status=1
fi

if [ $status -eq 0 ]; then echo "All test parts passed (SQLite, PostgreSQL, Chromium)."; fi
exit $status
