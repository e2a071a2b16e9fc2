#!/usr/bin/env bash
# DPoP recipes (RFC 9449): a token bound to a key the client holds, with curl
# and a proof made by proof.py, and with oauth4webapi from npm, unchanged.
# Needs a running tokend at $BASE (http://host:port, its issuer), WORKER_SECRET
# of orders-worker, a Python with PyJWT[crypto] as $PYTHON, and Node 20+ with
# npm. Used by clients/run-live.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
: "${BASE:?http://host:port of a running tokend}" "${WORKER_SECRET:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
field() { "$python" -c "import json,sys; print(json.load(sys.stdin)$1)"; }
claim() { "$python" -c 'import base64,json,sys; p=sys.stdin.read().strip().split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))'"$1"')'; }

echo "== curl: a proof in the DPoP header"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/dpop.key" 2>/dev/null
proof=$("$python" "$here/proof.py" "$work/dpop.key" POST "$BASE/oauth/v2/token")
answer=$(curl -sf -u "orders-worker:$WORKER_SECRET" -d grant_type=client_credentials -d scope=orders.read \
  -H "DPoP: $proof" "$BASE/oauth/v2/token")
echo "$answer" | field '["token_type"]' | grep -qx DPoP
jkt=$(echo "$answer" | field '["access_token"]' | claim '["cnf"]["jkt"]')
test "$jkt" = "$("$python" "$here/thumbprint.py" "$work/dpop.key")"
echo "ok: the token is bound to the key (cnf.jkt $jkt)"
replayed=$(curl -s -u "orders-worker:$WORKER_SECRET" -d grant_type=client_credentials -H "DPoP: $proof" \
  "$BASE/oauth/v2/token")
echo "$replayed" | field '["error"]' | grep -qx invalid_dpop_proof
echo "ok: the same proof again is refused"

echo "== oauth4webapi (npm): discovery, a key pair, the grant with DPoP"
cp "$here/oauth4webapi.mjs" "$here/package.json" "$work/"
(cd "$work" && npm install --silent --no-audit --no-fund > /dev/null)
read -r token_type token_jkt key_jkt < <(node "$work/oauth4webapi.mjs" "$BASE" orders-worker "$WORKER_SECRET")
test "$token_type" = dpop   # oauth4webapi lowercases the token type
test "$token_jkt" = "$key_jkt"
echo "ok: oauth4webapi got a DPoP-bound token (cnf.jkt $token_jkt)"
