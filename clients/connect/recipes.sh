#!/usr/bin/env bash
# The contract over the Connect protocol (JSON posted to
# /tokend.v1.Service/Method), with curl and with `buf curl`, copy-paste
# ready. CI runs this file against a live server (clients/run-live.sh),
# checking every answer. `buf` comes from the npm package @bufbuild/buf,
# installed here on first use; the schema is the repository's proto/.
# Needs: BASE (http://host:port), ADMIN_ID and ADMIN_SECRET of a client
# holding tokend.admin.
set -euo pipefail
: "${BASE:?http://host:port of a running tokend}" "${ADMIN_ID:?}" "${ADMIN_SECRET:?}"
here="$(cd "$(dirname "$0")" && pwd)"
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
[ -x "$here/node_modules/.bin/buf" ] || (cd "$here" && npm ci --no-audit --no-fund --silent)
buf="$here/node_modules/.bin/buf"
proto="$here/../../proto"

# curl: a token for the admin client; any RPC is a POST with a JSON body.
TOKEN=$(curl -sf -H 'content-type: application/json' \
  -d "{\"grantType\":\"client_credentials\",\"clientId\":\"$ADMIN_ID\",\"clientSecret\":\"$ADMIN_SECRET\",\"scope\":\"tokend.admin\"}" \
  "$BASE/tokend.v1.TokenService/IssueToken" | field '["accessToken"]')
# The same over HTTP/2 (cleartext, as gRPC on this port).
curl -sf --http2-prior-knowledge -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \
  -d '{"clientId":"orders-worker"}' "$BASE/tokend.v1.ClientAdmin/GetClient" | field '["allowedScopes"]' | grep -qx "\['orders.read', 'orders.write'\]"

# Errors in Connect's shape, with the OAuth reason in the ErrorInfo detail.
error=$(curl -s -H 'content-type: application/json' -d '{"clientId":"orders-worker"}' "$BASE/tokend.v1.ClientAdmin/GetClient")
echo "$error" | field '["code"]' | grep -qx unauthenticated
echo "$error" | field '["details"][0]["debug"]["reason"]' | grep -qx invalid_token

# buf curl, with the schema from proto/ (no reflection needed).
"$buf" curl --schema "$proto" --protocol connect -H "Authorization: Bearer $TOKEN" \
  -d '{"clientIdPrefix":"orders-"}' "$BASE/tokend.v1.ClientAdmin/ListClients" \
  | field '["clients"][0]["clientId"]' | grep -qx orders-worker
"$buf" curl --schema "$proto" --protocol connect -H "Authorization: Bearer $TOKEN" \
  -d '{"types":["client_created"],"clientId":"orders-worker"}' "$BASE/tokend.v1.AuditService/ListEvents" \
  | field '["events"][0]["actor"]' | grep -q '^cli:'
if "$buf" curl --schema "$proto" --protocol connect -d '{}' "$BASE/tokend.v1.ClientAdmin/ListSigningKeys" \
  2> "${TMPDIR:-/tmp}/buf-error.txt"; then
  echo "ListSigningKeys without a token should fail" >&2; exit 1
fi
grep -q unauthenticated "${TMPDIR:-/tmp}/buf-error.txt"
echo "ok: Connect recipes (curl and buf curl)"
