#!/usr/bin/env bash
# Drives the admin console in Debian's headless Chromium through
# playwright-core, against a live tokend the tests start on a scratch
# database. Installs what is missing: Debian's chromium (npm's own browser
# download cannot work without the internet) and the npm packages.
#   tests/console/run.sh [path/to/tokend] [screenshots/dir]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export TOKEND_BIN="${1:-$here/../../target/debug/tokend}"
export SCREENSHOTS="${2:-$here/screenshots}"
if ! command -v chromium >/dev/null; then
  echo "installing Debian's chromium"
  "$here/../../.ci/apt-install" chromium chromium-driver
fi
cd "$here"
npm ci --no-audit --no-fund --silent
node --test --test-reporter=spec errors.test.mjs console.test.mjs
