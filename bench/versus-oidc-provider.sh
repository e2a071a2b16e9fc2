#!/usr/bin/env bash
# tokend's HTTP token endpoint against node oidc-provider's client-credentials
# grant, side by side in one run: the same wrk load (client_secret_basic,
# 64 connections, one wrk thread) on each, alternating for ROUNDS rounds, so
# both see the same machine. wrk is lighter than tokend-bench, which leaves
# more of a shared machine to the server being measured.
#   bench/versus-oidc-provider.sh [SECONDS] [ROUNDS]
# Needs wrk (apt-get install wrk), Node.js and the release binary
# (cargo build --release -p tokend) in $CARGO_TARGET_DIR (default target/).
set -euo pipefail
seconds="${1:-6}"
rounds="${2:-3}"
here="$(cd "$(dirname "$0")" && pwd)"
tokend="${TOKEND_BIN:-${CARGO_TARGET_DIR:-$here/../target}/release/tokend}"
scratch=$(mktemp -d)
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

(cd "$here/oidc-provider" && npm install --no-audit --no-fund --loglevel=error > /dev/null)
node "$here/oidc-provider/server.mjs" > "$scratch/provider.log" 2>&1 &
pids+=($!)

export TOKEND_DATABASE_URL="sqlite://$scratch/tokend.db" TOKEND_KEY_ENCRYPTION_KEY_FILE="$scratch/kek" RUST_LOG=warn
secret=$("$tokend" client create --id wrk-bench --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
"$tokend" serve --listen 127.0.0.1:0 --issuer http://wrk.bench > "$scratch/tokend.log" 2>&1 &
pids+=($!)

address_in() {
  for _ in $(seq 100); do grep -q "listening on" "$1" && break; sleep 0.1; done
  grep -o 'listening on [0-9.:]*' "$1" | head -1 | cut -d' ' -f3
}
tokend_at=$(address_in "$scratch/tokend.log")
provider_at=$(address_in "$scratch/provider.log")

# One wrk Lua script per server: a form POST with HTTP Basic credentials;
# any answer but 200 is counted and fails the run.
script() {
  local basic
  basic=$(printf '%s:%s' "$1" "$2" | base64 -w0)
  cat > "$scratch/$3.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
bad = 0
response = function(status) if status ~= 200 then bad = bad + 1 end end
done = function() if bad > 0 then io.stderr:write("non-200 answers: " .. bad .. "\n"); os.exit(1) end end
LUA
}
script wrk-bench "$secret" tokend
script bench bench-secret provider

run() { # name address path
  wrk -t1 -c64 -d"${seconds}s" --latency -s "$scratch/$1.lua" "http://$2$3" |
    awk -v name="$1" '/Requests\/sec/ {rps=$2} / 99%/ {p99=$2} END {printf "%-8s %10.0f/s  p99 %s\n", name, rps, p99}'
}
for round in $(seq "$rounds"); do
  echo "round $round"
  run provider "$provider_at" /token | tee -a "$scratch/results"
  run tokend "$tokend_at" /oauth/v2/token | tee -a "$scratch/results"
done
awk '{sum[$1] += $2; n[$1]++} END {t = sum["tokend"] / n["tokend"]; p = sum["provider"] / n["provider"];
  printf "means: tokend %.0f/s, oidc-provider %.0f/s: %.1fx\n", t, p, t / p}' "$scratch/results"
