#!/usr/bin/env bash
# Ten minutes of HTTP token load at 64 connections, sampling the server's RSS
# every 15 s into docs/bench/soak-rss.tsv: is memory flat under sustained load?
#   SOAK_SECONDS=600 bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${SOAK_SECONDS:-600}"
cargo build --release -p tokend -p tokend-bench
./target/release/tokend-bench --json --seconds "$seconds" --warmup 2 --concurrency 64 --scenarios http-issue \
  > docs/bench/soak.jsonl &
bench=$!
sleep 2
server=$(pgrep -n -f "target/release/tokend serve --listen 127.0.0.1:0")
printf 'elapsed_s\trss_kib\n' > docs/bench/soak-rss.tsv
start=$(date +%s)
while kill -0 "$bench" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server/status" 2>/dev/null || true)
  [ -n "$rss" ] && printf '%s\t%s\n' "$(( $(date +%s) - start ))" "$rss" >> docs/bench/soak-rss.tsv
  sleep 15
done
wait "$bench"
cat docs/bench/soak.jsonl
