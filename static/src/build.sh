#!/usr/bin/env bash
# Compile static/src/portal.scss (govuk-frontend's Sass with the portal's own font stack and
# styles) into static/css/portal.css, then check every url() in it resolves to a file here.
#
# static/vendor/vendor.sh runs this with NODE_MODULES set to its fresh install. Run alone, it
# installs the govuk-frontend and sass versions recorded in static/vendor/VERSIONS.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
static="$(dirname "$here")"
out="$static/css/portal.css"

if [[ -z "${NODE_MODULES:-}" ]]; then
  pinned() { awk -v p="$1" '$1 == p { print $2 }' "$static/vendor/VERSIONS"; }
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (
    cd "$tmp"
    npm init -y >/dev/null
    npm install --no-audit --no-fund --ignore-scripts --omit=optional --silent \
      "govuk-frontend@$(pinned govuk-frontend)" "sass@$(pinned sass)"
  )
  NODE_MODULES="$tmp/node_modules"
fi

mkdir -p "$(dirname "$out")"
# --quiet-deps: govuk-frontend 5 still uses @import and slash division (Sass deprecations
# that are its own business, not ours).
node "$NODE_MODULES/sass/sass.js" \
  --load-path="$NODE_MODULES" \
  --quiet-deps --silence-deprecation=import \
  --style=compressed --no-source-map \
  "$here/portal.scss" "$out"

# Fail on a url() that points at nothing: a missing font or image is a silent 404 in production.
status=0
while IFS= read -r url; do
  case "$url" in
    data:*|\#*) continue ;;
    /static/*) target="$static/${url#/static/}" ;;
    /*) echo "ERROR: portal.css refers to $url, outside /static/" >&2; status=1; continue ;;
    *) target="$(dirname "$out")/$url" ;;
  esac
  target="${target%%[?#]*}"
  if [[ ! -f "$target" ]]; then
    echo "ERROR: portal.css refers to missing file $url" >&2
    status=1
  fi
done < <(grep -o 'url([^)]*)' "$out" | sed -E 's/^url\(["'\'']?//; s/["'\'']?\)$//' | sort -u)
if grep -q 'GDS Transport' "$out"; then
  echo "ERROR: portal.css names the GDS Transport font" >&2
  status=1
fi
[[ $status -eq 0 ]] || exit $status

echo "Wrote $out ($(wc -c < "$out") bytes)"
