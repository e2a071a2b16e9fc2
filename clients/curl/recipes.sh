#!/usr/bin/env bash
# curl recipes for tokend's HTTP adapter, copy-paste ready. CI runs this file
# against a live server (clients/run-live.sh), checking every answer.
# Needs: BASE (http://host:port), ADMIN_ID and ADMIN_SECRET of a client
# holding tokend.admin and tokend.introspect, and WORKER_SECRET of
# orders-worker (scopes orders.read and orders.write).
set -euo pipefail
: "${BASE:?http://host:port of a running tokend}" "${ADMIN_ID:?}" "${ADMIN_SECRET:?}" "${WORKER_SECRET:?}"
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# Discovery: where the endpoints and the keys are.
curl -sf "$BASE/.well-known/oauth-authorization-server" | field '["token_endpoint"]' | grep -q '/oauth/v2/token$'
curl -sf "$BASE/oauth/v2/keys" | field '["keys"][0]["alg"]' | grep -qx ES256

# client_secret_basic (ZITADEL style).
TOKEN=$(curl -sf -u "$ADMIN_ID:$ADMIN_SECRET" -d grant_type=client_credentials -d scope=tokend.introspect \
  "$BASE/oauth/v2/token" | field '["access_token"]')

# Credentials in the form (Curity style) and in one raw body (Cloudentity style).
curl -sf -d "client_id=$ADMIN_ID" -d "client_secret=$ADMIN_SECRET" -d grant_type=client_credentials \
  "$BASE/oauth/v2/token" | field '["token_type"]' | grep -qx Bearer
curl -sf --data-raw "grant_type=client_credentials&client_id=$ADMIN_ID&client_secret=$ADMIN_SECRET" \
  "$BASE/oauth/v2/token" | field '["expires_in"]' | grep -qx 3600

# The TokenIDP JSON dialect.
curl -sf -H 'content-type: application/json' \
  -d "{\"grantType\":\"client_credentials\",\"clientId\":\"$ADMIN_ID\",\"clientSecret\":\"$ADMIN_SECRET\"}" \
  "$BASE/token" | field '["isSuccess"]' | grep -qx True

# Introspect, revoke, introspect again.
curl -sf -u "$ADMIN_ID:$ADMIN_SECRET" -d "token=$TOKEN" "$BASE/oauth/v2/introspect" | field '["active"]' | grep -qx True
# Exchange a token for a narrower one (RFC 8693): orders-worker's own token,
# one scope. (No exchange carries tokend's own scopes, such as the admin's.)
WIDE=$(curl -sf -u "orders-worker:$WORKER_SECRET" -d grant_type=client_credentials \
  --data-urlencode "scope=orders.read orders.write" "$BASE/oauth/v2/token" | field '["access_token"]')
curl -sf -u "orders-worker:$WORKER_SECRET" -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
  -d "subject_token=$WIDE" -d subject_token_type=urn:ietf:params:oauth:token-type:access_token \
  -d scope=orders.read "$BASE/oauth/v2/token" | field '["scope"]' | grep -qx orders.read
curl -sf -u "$ADMIN_ID:$ADMIN_SECRET" -d "token=$TOKEN" "$BASE/oauth/v2/revoke" > /dev/null
test "$(curl -sf -u "$ADMIN_ID:$ADMIN_SECRET" -d "token=$TOKEN" "$BASE/oauth/v2/introspect")" = '{"active":false}'

# A wrong secret: 401 invalid_client with a Basic challenge.
test "$(curl -s -o /dev/null -w '%{http_code}' -u "$ADMIN_ID:wrong" -d grant_type=client_credentials "$BASE/oauth/v2/token")" = 401
curl -s -D - -o /dev/null -u "$ADMIN_ID:wrong" -d grant_type=client_credentials "$BASE/oauth/v2/token" \
  | grep -qi '^www-authenticate: Basic realm="tokend"'

echo "curl recipes: all passed"
