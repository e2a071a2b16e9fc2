#!/usr/bin/env bash
# Reproduces docs/BENCHMARKS.md on this machine: builds the release binaries,
# drives tokend over a range of concurrencies, measures memory with 10,000
# registered clients and under a wrong-secret flood, runs oidc-provider (from
# npm, installed here, never committed) through the same HTTP load, and plots.
#   SECONDS_PER_RUN=10 CONCURRENCY=1,4,16,64 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${SECONDS_PER_RUN:-10}"
concurrency="${CONCURRENCY:-1,4,16,64}"
out=docs/bench
mkdir -p "$out"

cargo build --release -p tokend -p tokend-bench
bench=./target/release/tokend-bench

echo "== tokend: throughput and latency against concurrency"
$bench --json --seconds "$seconds" --warmup 2 --concurrency "$concurrency" | tee "$out/tokend.jsonl"

echo "== tokend: 10,000 registered clients, peak RSS"
$bench --json --seconds "$seconds" --warmup 2 --concurrency 64 --clients 10000 \
  --scenarios grpc-issue,http-issue,grpc-introspect | tee "$out/tokend-10k-clients.jsonl"

echo "== tokend: warm client under a wrong-secret flood (64 flooding workers)"
$bench --json --seconds "$seconds" --warmup 2 --concurrency 64 --flood 64 --scenarios grpc-issue,http-issue \
  | tee "$out/tokend-flood.jsonl"

echo "== oidc-provider: the same HTTP load"
(cd bench/oidc-provider && npm install --no-audit --no-fund --loglevel=error)
log=$(mktemp)
node bench/oidc-provider/server.mjs > "$log" 2>&1 &
provider=$!
trap 'kill $provider 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.2; done
address=$(grep -o '127.0.0.1:[0-9]*' "$log" | head -1)
$bench --json --target "$address" --client-id bench --client-secret bench-secret --http-token-path /token \
  --scenarios http-issue --seconds "$seconds" --warmup 2 --concurrency "$concurrency" | tee "$out/oidc-provider.jsonl"

python3 bench/plot.py "$out/tokend.jsonl" "$out/oidc-provider.jsonl" > "$out/throughput.svg"
echo "wrote $out/throughput.svg"
