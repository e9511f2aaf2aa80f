#!/usr/bin/env bash
# Vendor the portal's front-end packages from npm into static/vendor/ (no CDN at run time),
# record their versions in static/vendor/VERSIONS, then rebuild static/css/portal.css.
#
# Re-runnable: `static/vendor/vendor.sh` picks the newest release inside each range below.
# Only the files the portal serves are kept. Source maps are kept beside govuk-frontend's
# JS; chart.js's 1 MB map is dropped and its sourceMappingURL comment stripped instead
# (collectstatic with manifest storage fails on a map that is referred to but missing).
set -euo pipefail

# Ranges, not latest: htmx 4 is a different API; govuk-frontend 6 drops things the
# templates use; chart.js 5 would change the UMD build.
GOVUK_FRONTEND="govuk-frontend@^5"
HTMX="htmx.org@2.0.11"
SORTABLE="sortablejs@^1"
CHARTJS="chart.js@^4"
SASS="sass@^1"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
static="$(dirname "$here")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "Installing into $tmp ..."
(
  cd "$tmp"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --ignore-scripts --omit=optional --silent \
    "$GOVUK_FRONTEND" "$HTMX" "$SORTABLE" "$CHARTJS" "$SASS"
)
nm="$tmp/node_modules"
version() { node -p "require('$nm/$1/package.json').version"; }

# Start clean so a file dropped upstream does not linger here.
rm -rf "$here/govuk-frontend" "$here/htmx" "$here/sortablejs" "$here/chart.js"
mkdir -p "$here/govuk-frontend" "$here/htmx" "$here/sortablejs" "$here/chart.js"

cp "$nm/govuk-frontend/dist/govuk/govuk-frontend.min.js" \
   "$nm/govuk-frontend/dist/govuk/govuk-frontend.min.js.map" "$here/govuk-frontend/"
# The package ships no licence file; its package.json says MIT.
echo "govuk-frontend: $(node -p "require('$nm/govuk-frontend/package.json').license") licence, https://github.com/alphagov/govuk-frontend" \
  > "$here/govuk-frontend/LICENSE.txt"

cp "$nm/htmx.org/dist/htmx.min.js" "$here/htmx/"
cp "$nm/htmx.org/LICENSE" "$here/htmx/LICENSE"

cp "$nm/sortablejs/Sortable.min.js" "$here/sortablejs/"
cp "$nm/sortablejs/LICENSE" "$here/sortablejs/LICENSE"

sed -e 's|//# sourceMappingURL=[^ ]*$||' "$nm/chart.js/dist/chart.umd.min.js" \
  > "$here/chart.js/chart.umd.min.js"
cp "$nm/chart.js/LICENSE.md" "$here/chart.js/LICENSE.md"

# Any sourceMappingURL left must name a map that sits beside its file.
for f in "$here"/*/*.js; do
  map="$(grep -o 'sourceMappingURL=[^ *]*' "$f" | tail -n1 | cut -d= -f2 || true)"
  if [[ -n "$map" && ! -f "$(dirname "$f")/$map" ]]; then
    echo "ERROR: $f refers to missing source map $map" >&2
    exit 1
  fi
done

{
  echo "# Written by static/vendor/vendor.sh. One 'package version' a line."
  echo "govuk-frontend $(version govuk-frontend)"
  echo "htmx.org $(version htmx.org)"
  echo "sortablejs $(version sortablejs)"
  echo "chart.js $(version chart.js)"
  echo "# Build only (compiles static/src/portal.scss), not served:"
  echo "sass $(version sass)"
} > "$here/VERSIONS"

NODE_MODULES="$nm" "$static/src/build.sh"

echo
cat "$here/VERSIONS"
