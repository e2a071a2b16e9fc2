#!/usr/bin/env bash
# CPU per token, server and load generator apart: runs tokend-bench against
# SERVER for each scenario and reads both processes' utime+stime from
# /proc/PID/stat over 6 s of the measured window. Extra arguments go to
# tokend-bench (e.g. --client-claims-file claims.json).
#   [SCENARIOS="grpc-issue http-issue connect-issue"] bench/cpu-per-token.sh target/release/tokend [--client-claims-file F]
set -euo pipefail
server=${1:?the tokend binary}; shift
bench="${TOKEND_BENCH:-$(dirname "$server")/tokend-bench}"
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for scenario in ${SCENARIOS:-grpc-issue http-issue}; do
  out=$(mktemp)
  "$bench" --server "$server" "$@" --seconds 10 --warmup 2 --concurrency 64 --scenarios "$scenario" > "$out" 2>&1 &
  driver=$!
  sleep 4
  served=$(pgrep -f "^$server serve" | head -1)
  s0=$(cpu "$served"); d0=$(cpu "$driver")
  sleep 6
  s1=$(cpu "$served"); d1=$(cpu "$driver")
  wait "$driver"
  rate=$(awk '/^(Grpc|Http|Connect)/ {print $4}' "$out")
  per() { awk -v a="$1" -v b="$2" -v t="$tick" -v r="$rate" 'BEGIN { printf "%.1f", (b - a) / t / 6 / r * 1e6 }'; }
  echo "$scenario: $rate tokens/s, server $(per "$s0" "$s1") µs/token, load generator $(per "$d0" "$d1") µs/token"
  rm -f "$out"
done
