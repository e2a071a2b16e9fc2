#!/usr/bin/env bash
# Dynamic client registration with curl, as RFC 7591 §3.1 and RFC 7592 §2
# show it: a pipeline holding an initial access token registers a client,
# gets tokens with it, reads and replaces its registration with the
# registration access token, then deletes it. CI runs this against a live
# server (clients/run-live.sh), checking every answer.
# Needs: BASE (http://host:port of a tokend with --registration token), and
# REGISTRAR_ID and REGISTRAR_SECRET of a client allowed tokend.register.
set -euo pipefail
: "${BASE:?http://host:port of a running tokend}" "${REGISTRAR_ID:?}" "${REGISTRAR_SECRET:?}"
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# The initial access token: an ordinary token with the scope tokend.register.
INITIAL=$(curl -sf -u "$REGISTRAR_ID:$REGISTRAR_SECRET" -d grant_type=client_credentials -d scope=tokend.register \
  "$BASE/oauth/v2/token" | field '["access_token"]')
curl -sf "$BASE/.well-known/oauth-authorization-server" | field '["registration_endpoint"]' | grep -q '/oauth/v2/register$'

# Register (RFC 7591 §3.1): 201 with the client's id, secret and registration access token.
curl -sf -o registered.json -w '%{http_code}\n' "$BASE/oauth/v2/register" \
  -H "Authorization: Bearer $INITIAL" -H 'Content-Type: application/json' -d '{
    "client_name": "Nightly report",
    "scope": "reports.read",
    "grant_types": ["client_credentials"],
    "token_endpoint_auth_method": "client_secret_basic"
  }' | grep -qx 201
CLIENT_ID=$(field '["client_id"]' < registered.json)
CLIENT_SECRET=$(field '["client_secret"]' < registered.json)
REGISTRATION_TOKEN=$(field '["registration_access_token"]' < registered.json)
CLIENT_URI=$(field '["registration_client_uri"]' < registered.json)

# The new client gets client-credentials tokens at once.
curl -sf -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$BASE/oauth/v2/token" \
  | field '["scope"]' | grep -qx reports.read

# Read (RFC 7592 §2.1), then replace (§2.2): a new registration access token each time.
curl -sf -H "Authorization: Bearer $REGISTRATION_TOKEN" "$CLIENT_URI" | field '["client_name"]' | grep -qx 'Nightly report'
NEW_TOKEN=$(curl -sf -X PUT "$CLIENT_URI" -H "Authorization: Bearer $REGISTRATION_TOKEN" \
  -H 'Content-Type: application/json' \
  -d "{\"client_id\": \"$CLIENT_ID\", \"client_name\": \"Nightly report v2\", \"scope\": \"reports.read\"}" \
  | field '["registration_access_token"]')
curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $REGISTRATION_TOKEN" "$CLIENT_URI" | grep -qx 401

# Delete (§2.3): 204, and the client gets no more tokens.
curl -sf -o /dev/null -w '%{http_code}\n' -X DELETE -H "Authorization: Bearer $NEW_TOKEN" "$CLIENT_URI" | grep -qx 204
curl -s -o /dev/null -w '%{http_code}\n' -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials \
  "$BASE/oauth/v2/token" | grep -qx 401
rm -f registered.json
echo "ok: registered, used, read, replaced and deleted a client with curl (RFC 7591, RFC 7592)"
