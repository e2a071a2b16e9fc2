#!/usr/bin/env bash
# The shared verification cases: made against a live tokend by
# `tokend-conformance serve`, then run through the Rust, Python and Node
# verifiers; fails unless all three give every case the outcome
# expected.json names. Needs the Python package installed in the virtualenv
# clients/python/run-tests.sh makes and the Node package built (npm ci in
# clients/node). Used by CI.
#   clients/conformance/run.sh [path/to/tokend-conformance]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
conformance="${1:-$here/../../target/debug/tokend-conformance}"
python="${TOKEND_PY_VENV:-$HOME/.cache/tokend/venv}/bin/python"
scratch=$(mktemp -d)
"$conformance" serve "$scratch/cases.json" "$here/expected.json" > "$scratch/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$scratch"' EXIT
for _ in $(seq 300); do
  [ -f "$scratch/cases.json" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$scratch/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ -f "$scratch/cases.json" ] || { echo "no cases after 30 s" >&2; cat "$scratch/serve.log" >&2; exit 1; }
"$conformance" verify "$scratch/cases.json" "$scratch/rust.json"
"$python" "$here/verify.py" "$scratch/cases.json" "$scratch/python.json"
node "$here/verify.mjs" "$scratch/cases.json" "$scratch/node.json"
"$python" "$here/compare.py" "$scratch/cases.json" "$scratch/rust.json" "$scratch/python.json" "$scratch/node.json"
