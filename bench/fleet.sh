#!/usr/bin/env bash
# A fleet of N tokend instances on one PostgreSQL database, with the load
# spread evenly over them: one tokend-bench per instance, each with 64/N
# requests in flight, all at once. Prints each instance's throughput and
# latency and the fleet's total. On a 2-core machine the figures show that
# the fleet works and what each instance costs, not how it scales.
#   bench/fleet.sh N [SECONDS]
# Needs the release binaries (cargo build --release -p tokend -p tokend-bench)
# in $CARGO_TARGET_DIR (default target/) and PostgreSQL at
# $TOKEND_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail
n="${1:?how many instances}"
seconds="${2:-6}"
here="$(cd "$(dirname "$0")" && pwd)"
bin="${CARGO_TARGET_DIR:-$here/../target}/release"
pg="${TOKEND_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
database="tokend_fleet_bench_$$"
scratch=$(mktemp -d)
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $database" > /dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT
psql -q "$pg/postgres" -c "CREATE DATABASE $database" > /dev/null
export TOKEND_DATABASE_URL="$pg/$database" TOKEND_KEY_ENCRYPTION_KEY_FILE="$scratch/kek" RUST_LOG=warn
secret=$("$bin/tokend" client create --id fleet-bench --scopes tokend.introspect --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')

addresses=()
for i in $(seq "$n"); do
  "$bin/tokend" serve --listen 127.0.0.1:0 --issuer http://fleet.bench > "$scratch/tokend-$i.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$scratch/tokend-$i.log" && break; sleep 0.1; done
  addresses+=("$(grep -o 'listening on [0-9.:]*' "$scratch/tokend-$i.log" | head -1 | cut -d' ' -f3)")
done

bench_pids=()
for i in $(seq "$n"); do
  "$bin/tokend-bench" --target "${addresses[$((i - 1))]}" --client-id fleet-bench --client-secret "$secret" \
    --concurrency $((64 / n)) --seconds "$seconds" --warmup 2 --scenarios grpc-issue --json \
    > "$scratch/bench-$i.json" &
  bench_pids+=($!)
done
wait "${bench_pids[@]}"

python3 - "$n" "$scratch" <<'PY'
import json, sys
n, scratch = int(sys.argv[1]), sys.argv[2]
runs = [json.loads(open(f"{scratch}/bench-{i}.json").read().splitlines()[-1]) for i in range(1, n + 1)]
for i, run in enumerate(runs, 1):
    print(f"instance {i}: {run['requests_per_second']:8.0f}/s  p50 {run['p50_ms']:.2f} ms  p99 {run['p99_ms']:.2f} ms  errors {run['errors']}")
total = sum(run["requests_per_second"] for run in runs)
print(f"fleet of {n}: {total:8.0f}/s  worst p99 {max(run['p99_ms'] for run in runs):.2f} ms  errors {sum(run['errors'] for run in runs)}")
PY
