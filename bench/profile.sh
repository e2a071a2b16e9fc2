#!/usr/bin/env bash
# Where issuance spends its CPU: drives gRPC IssueToken at 64 in flight with
# tokend-bench, records the server with perf (call graphs by DWARF unwinding)
# for 5 s of the measured window, and writes a flame graph and the cost table.
#   bench/profile.sh [SCENARIO] [OUT.svg]
# Defaults: grpc-issue, docs/bench/issuance-flame.svg. Needs perf, inferno
# (cargo install inferno) and the release binaries in $CARGO_TARGET_DIR
# (default target/).
set -euo pipefail
scenario="${1:-grpc-issue}"
here="$(cd "$(dirname "$0")" && pwd)"
out="${2:-$here/../docs/bench/issuance-flame.svg}"
bin="${CARGO_TARGET_DIR:-$here/../target}/release"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$bin/tokend-bench" --server "$bin/tokend" --seconds 10 --warmup 2 --concurrency 64 \
  --scenarios "$scenario" > "$scratch/bench.txt" 2>&1 &
driver=$!
sleep 4
server=$(pgrep -n -f "^$bin/tokend serve")
perf record -q -F 499 --call-graph dwarf,16384 -p "$server" -o "$scratch/perf.data" -- sleep 5
wait "$driver"
grep -E '^(scenario|Grpc|Http|Connect)' "$scratch/bench.txt"

perf script -i "$scratch/perf.data" 2> /dev/null > "$scratch/perf.txt"
inferno-collapse-perf < "$scratch/perf.txt" > "$scratch/folded.txt"
inferno-flamegraph --title "tokend $scenario at 64 in flight" --minwidth 0.1 < "$scratch/folded.txt" > "$out"
echo "wrote $out"
python3 "$here/costs.py" < "$scratch/perf.txt"
