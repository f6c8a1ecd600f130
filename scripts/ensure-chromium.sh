#!/usr/bin/env bash
# Make sure Debian's Chromium is present for the browser tests (Playwright's own download does not work here).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
[ -x /usr/bin/chromium ] || { echo "SKIPPED: browser tests -- /usr/bin/chromium is missing and could not be installed." >&2; exit 3; }
