#!/usr/bin/env bash
# Fetch the NHS.UK frontend package from the npm registry and copy its built CSS, JS and images
# into passport/static/nhsuk/ (ignored by git).
set -euo pipefail
version="${1:?version}"
dest=passport/static/nhsuk
work=build/npm
mkdir -p "$work" "$dest"
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed to fetch the NHS.UK frontend assets; installing Debian's npm" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq npm >/dev/null; else echo "run as root or install npm" >&2; exit 1; fi
fi
npm install --silent --no-audit --no-fund --prefix "$work" "nhsuk-frontend@${version}" >/dev/null
src="$work/node_modules/nhsuk-frontend/dist/nhsuk"
cp "$src/nhsuk-frontend.min.js" "$dest/"
# The stylesheet loads the Frutiger web font from a third-party host; the service sends no third-party
# requests (and its CSP would block them), so drop those @font-face rules and use the Arial fallback.
sed -E 's/@font-face\{[^}]*assets\.nhs\.uk[^}]*\}//g' "$src/nhsuk-frontend.min.css" > "$dest/nhsuk-frontend.min.css"
rm -rf "$dest/assets" && cp -r "$src/assets" "$dest/assets"
echo "NHS.UK frontend ${version} assets are in $dest"
