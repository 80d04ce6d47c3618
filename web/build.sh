#!/usr/bin/env bash
# Bundles the console's page into the folder given (called by the CMake build of
# src/console): installs the pinned packages from package-lock.json when the lock
# changed (npm ci), runs build.mjs, copies dist/ to the folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
out="${1:?usage: build.sh OUTPUT_FOLDER}"
stamp=node_modules/.sluice-lock.sha
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
node build.mjs >/dev/null
rm -rf "$out"
mkdir -p "$out"
cp -r dist/. "$out"/
