#!/usr/bin/env bash
# Installs the front-end packages of web/static (npm ci, from the committed
# package-lock.json) and copies what the server serves into web/static/vendor/,
# which web/static embeds in the binary. Neither node_modules nor vendor is
# committed.
#
# Fast when nothing changed: npm ci runs only when node_modules is missing or
# package-lock.json changed since the last run, and vendor/ is rebuilt only when
# the lock file or this script changed or vendor/ is incomplete.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
static="$root/web/static"
modules="$static/node_modules"
vendor="$static/vendor"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build-assets: %s\n' "$*" >&2; exit 1; }

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# 1. node_modules, from the lock file. The stamp records which lock file it was
# installed from; npm's own node_modules/.package-lock.json is not a copy of it.
lock_hash=$(hash_of "$static/package.json" "$static/package-lock.json")
npm_stamp="$modules/.dialogo-npm-ci"
if [ ! -f "$npm_stamp" ] || [ "$(cat "$npm_stamp")" != "$lock_hash" ]; then
  command -v npm >/dev/null || die "npm not found: run 'make deps' (scripts/install-deps.sh) first"
  log "npm ci in web/static"
  # --include=dev: axe-core, a devDependency, is what the browser tests inject,
  # and must be there even where NODE_ENV=production. No dependency needs its
  # install scripts, so none is run.
  (cd "$static" && npm ci --include=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" >"$npm_stamp"
fi

# 2. vendor/: only what is served. Bootstrap Italia's dist/ keeps its layout
# (css/, js/, svg/, fonts/<family>/) because its font loader builds the font URLs
# as <fonts path>/<family>/<file>. Of the fonts, only the formats that a
# browser of today picks from the loader's list are copied (woff2, and woff for
# older ones), with their licences; the source maps are left out.
bi="$modules/bootstrap-italia"
vendor_hash=$(hash_of "$static/package-lock.json" "${BASH_SOURCE[0]}")
vendor_stamp="$modules/.dialogo-vendor"
if [ -f "$vendor_stamp" ] && [ "$(cat "$vendor_stamp")" = "$vendor_hash" ] &&
  [ -f "$vendor/bootstrap-italia/package.json" ]; then
  exit 0
fi
[ -d "$bi/dist" ] || die "$bi/dist is missing: is bootstrap-italia in web/static/package.json?"

log "copying Bootstrap Italia into web/static/vendor"
staging=$(mktemp -d "$static/.vendor.XXXXXX")
trap 'rm -rf "$staging"' EXIT
out="$staging/bootstrap-italia"
mkdir -p "$out/css" "$out/js" "$out/svg" "$out/fonts"
cp "$bi/package.json" "$bi/LICENSE" "$out/"
cp "$bi/dist/css/bootstrap-italia.min.css" "$out/css/"
cp "$bi/dist/js/bootstrap-italia.bundle.min.js" "$out/js/"
cp "$bi/dist/svg/sprites.svg" "$out/svg/"
for family in "$bi"/dist/fonts/*/; do
  name=$(basename "$family")
  mkdir -p "$out/fonts/$name"
  cp "$family"*.woff2 "$family"*.woff "$out/fonts/$name/"
  if compgen -G "$family"'LICENSE*' >/dev/null; then cp "$family"LICENSE* "$out/fonts/$name/"; fi
done

# Swap the new copy in; .gitkeep stays so that the folder exists in a fresh
# clone and web/static compiles before the first build.
find "$vendor" -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +
mv "$out" "$vendor/"
echo "$vendor_hash" >"$vendor_stamp"
