#!/usr/bin/env bash
# grpcurl recipes for tokend, copy-paste ready. CI runs this file top to bottom
# against a live server (clients/run-live.sh), checking every answer, so the
# recipes cannot rot. Needs: TOKEND (host:port), ADMIN_ID and ADMIN_SECRET of a
# client holding tokend.admin and tokend.introspect.
set -euo pipefail
: "${TOKEND:?host:port of a running tokend}" "${ADMIN_ID:?}" "${ADMIN_SECRET:?}"
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
basic() { printf '%s:%s' "$1" "$2" | base64 -w0; }

# List and describe the services through reflection alone.
grpcurl -plaintext "$TOKEND" list | grep -qx tokend.v1.TokenService
grpcurl -plaintext "$TOKEND" describe tokend.v1.TokenService.IssueToken | grep -q IssueTokenRequest
grpcurl -plaintext "$TOKEND" describe tokend.v1.IssueTokenRequest | grep -q client_secret

# IssueToken with the credentials in the JSON request.
ADMIN_TOKEN=$(grpcurl -plaintext \
  -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"$ADMIN_ID\",\"client_secret\":\"$ADMIN_SECRET\"}" \
  "$TOKEND" tokend.v1.TokenService/IssueToken | field '["accessToken"]')

# IssueToken with Basic metadata instead (RFC 6749 §2.3.1), asking for one scope.
grpcurl -plaintext -H "authorization: Basic $(basic "$ADMIN_ID" "$ADMIN_SECRET")" \
  -d '{"grant_type":"client_credentials","scope":"tokend.introspect"}' \
  "$TOKEND" tokend.v1.TokenService/IssueToken | field '["scope"]' | grep -qx tokend.introspect

# ClientAdmin with the admin's bearer token: create a client (its secret is shown once).
CREATED=$(grpcurl -plaintext -H "authorization: Bearer $ADMIN_TOKEN" \
  -d '{"client_id":"grpcurl-demo","allowed_scopes":["orders.read"],"default_scopes":["orders.read"],"audiences":["orders-api"],"claims":{"tenant":"acme"}}' \
  "$TOKEND" tokend.v1.ClientAdmin/CreateClient)
DEMO_SECRET=$(echo "$CREATED" | field '["clientSecret"]')
grpcurl -plaintext -H "authorization: Bearer $ADMIN_TOKEN" -d '{"client_id":"grpcurl-demo"}' \
  "$TOKEND" tokend.v1.ClientAdmin/GetClient | field '["active"]' | grep -qx True
grpcurl -plaintext -H "authorization: Bearer $ADMIN_TOKEN" -d '{"page_size":10}' \
  "$TOKEND" tokend.v1.ClientAdmin/ListClients | grep -q grpcurl-demo

# The new client gets a token; the admin (tokend.introspect) introspects it.
DEMO_TOKEN=$(grpcurl -plaintext \
  -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"grpcurl-demo\",\"client_secret\":\"$DEMO_SECRET\"}" \
  "$TOKEND" tokend.v1.TokenService/IssueToken | field '["accessToken"]')
grpcurl -plaintext -H "authorization: Bearer $ADMIN_TOKEN" -d "{\"token\":\"$DEMO_TOKEN\"}" \
  "$TOKEND" tokend.v1.TokenService/Introspect | field '["aud"][0]' | grep -qx orders-api

# Its fixed claim rides in the token.
payload() { python3 -c "import base64,json,sys; p=sys.argv[1].split('.')[1]; print(json.loads(base64.urlsafe_b64decode(p+'='*(-len(p)%4)))$2)" "$1"; }
payload "$DEMO_TOKEN" '["tenant"]' | grep -qx acme

# Exchange it for a token of its own that reaches one audience (RFC 8693).
grpcurl -plaintext -d "{\"client_id\":\"grpcurl-demo\",\"client_secret\":\"$DEMO_SECRET\",\"subject_token\":\"$DEMO_TOKEN\",
  \"subject_token_type\":\"urn:ietf:params:oauth:token-type:access_token\",\"audience\":[\"orders-api\"]}" \
  "$TOKEND" tokend.v1.TokenService/ExchangeToken | field '["issuedTokenType"]' | grep -qx urn:ietf:params:oauth:token-type:access_token

# An edge gateway, registered as a Transaction Token requester, turns that token into a
# Txn-Token for the trust domain (tokend's issuer): typ txntoken+jwt, token_type N_A.
EDGE_SECRET=$(grpcurl -plaintext -H "authorization: Bearer $ADMIN_TOKEN" \
  -d '{"client_id":"grpcurl-edge","txn_token_requester":true}' \
  "$TOKEND" tokend.v1.ClientAdmin/CreateClient | field '["clientSecret"]')
TXN_TOKEN=$(grpcurl -plaintext -d "{\"client_id\":\"grpcurl-edge\",\"client_secret\":\"$EDGE_SECRET\",
  \"subject_token\":\"$DEMO_TOKEN\",\"subject_token_type\":\"urn:ietf:params:oauth:token-type:access_token\",
  \"requested_token_type\":\"urn:ietf:params:oauth:token-type:txn_token\",
  \"audience\":[\"http://$TOKEND\"],\"scope\":\"orders.read\",\"request_details\":\"{\\\"action\\\":\\\"list\\\"}\"}" \
  "$TOKEND" tokend.v1.TokenService/ExchangeToken | field '["accessToken"]')
payload "$TXN_TOKEN" '["sub"]' | grep -qx grpcurl-demo
payload "$TXN_TOKEN" '["tctx"]["action"]' | grep -qx list

# Revoke it; from then on it introspects inactive (an empty answer: active=false).
grpcurl -plaintext -H "authorization: Basic $(basic grpcurl-demo "$DEMO_SECRET")" -d "{\"token\":\"$DEMO_TOKEN\"}" \
  "$TOKEND" tokend.v1.TokenService/Revoke > /dev/null
grpcurl -plaintext -H "authorization: Bearer $ADMIN_TOKEN" -d "{\"token\":\"$DEMO_TOKEN\"}" \
  "$TOKEND" tokend.v1.TokenService/Introspect | field '.get("active", False)' | grep -qx False

# Its bit is set in the status list it points into, which GetStatusList serves
# without credentials: a bit string in zlib, one bit a token, LSB first.
STATUS_URI=$(payload "$DEMO_TOKEN" '["status"]["status_list"]["uri"]')
STATUS_IDX=$(payload "$DEMO_TOKEN" '["status"]["status_list"]["idx"]')
STATUS_LIST=$(grpcurl -plaintext -d "{\"uri\":\"$STATUS_URI\"}" \
  "$TOKEND" tokend.v1.TokenService/GetStatusList | field '["statusListToken"]')
payload "$STATUS_LIST" '["status_list"]["lst"]' | python3 -c "
import base64, sys, zlib
lst = sys.stdin.read().strip(); bits = zlib.decompress(base64.urlsafe_b64decode(lst + '=' * (-len(lst) % 4)))
print((bits[$STATUS_IDX // 8] >> ($STATUS_IDX % 8)) & 1)" | grep -qx 1

# Rotate the secret with no grace (as after a leak), then delete the client.
grpcurl -plaintext -H "authorization: Bearer $ADMIN_TOKEN" -d '{"client_id":"grpcurl-demo","grace_seconds":0}' \
  "$TOKEND" tokend.v1.ClientAdmin/RotateSecret | field '["clientSecret"]' > /dev/null
grpcurl -plaintext -H "authorization: Bearer $ADMIN_TOKEN" -d '{"client_id":"grpcurl-demo"}' \
  "$TOKEND" tokend.v1.ClientAdmin/DeleteClient > /dev/null

# Who rotated grpcurl-demo's secret, and when: the audit trail, newest first.
ROTATED=$(grpcurl -plaintext -H "authorization: Bearer $ADMIN_TOKEN" \
  -d '{"client_id":"grpcurl-demo","types":["secret_rotated"]}' \
  "$TOKEND" tokend.v1.AuditService/ListEvents)
echo "$ROTATED" | field '["events"][0]["actor"]' | grep -qx "$ADMIN_ID"
echo "$ROTATED" | field '["events"][0]["time"]' | grep -q Z
grpcurl -plaintext -H "authorization: Bearer $ADMIN_TOKEN" -d '{"client_id":"grpcurl-demo"}' \
  "$TOKEND" tokend.v1.AuditService/ListEvents | field '["events"][0]["type"]' | grep -qx client_deleted

# A wrong secret: UNAUTHENTICATED, with the OAuth code in ErrorInfo.
if OUT=$(grpcurl -plaintext -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"$ADMIN_ID\",\"client_secret\":\"wrong\"}" \
  "$TOKEND" tokend.v1.TokenService/IssueToken 2>&1); then exit 1; fi
echo "$OUT" | grep -q 'Code: Unauthenticated'
echo "$OUT" | grep -q '"reason":"invalid_client"'

echo "grpcurl recipes: all passed"
