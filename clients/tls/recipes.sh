#!/usr/bin/env bash
# grpcurl and curl against tokend over TLS (serve --tls-cert --tls-key), copy-
# paste ready; CI runs this file against a live TLS server (clients/run-live.sh),
# checking every answer. Needs: TOKEND_TLS (host:port), CA (the CA's PEM file),
# ADMIN_ID and ADMIN_SECRET of a client holding tokend.introspect.
set -euo pipefail
: "${TOKEND_TLS:?host:port of a tokend serving TLS}" "${CA:?PEM file of the CA}" "${ADMIN_ID:?}" "${ADMIN_SECRET:?}"
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# grpcurl: -cacert instead of -plaintext; reflection works as before.
grpcurl -cacert "$CA" "$TOKEND_TLS" list | grep -qx tokend.v1.TokenService
TOKEN=$(grpcurl -cacert "$CA" \
  -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"$ADMIN_ID\",\"client_secret\":\"$ADMIN_SECRET\"}" \
  "$TOKEND_TLS" tokend.v1.TokenService/IssueToken | field '["accessToken"]')

# curl: the same token endpoint over https, client_secret_basic.
curl -sf --cacert "$CA" -u "$ADMIN_ID:$ADMIN_SECRET" -d grant_type=client_credentials \
  "https://$TOKEND_TLS/oauth/v2/token" | field '["token_type"]' | grep -qx Bearer

# The issuer and every URL discovery publishes are https.
curl -sf --cacert "$CA" "https://$TOKEND_TLS/.well-known/oauth-authorization-server" \
  | field '["token_endpoint"]' | grep -q '^https://'

# Introspection over https of the token grpcurl got.
curl -sf --cacert "$CA" -u "$ADMIN_ID:$ADMIN_SECRET" --data-urlencode "token=$TOKEN" \
  "https://$TOKEND_TLS/oauth/v2/introspect" | field '["active"]' | grep -qx True

# Plaintext is refused on a TLS port.
if curl -s --max-time 5 "http://$TOKEND_TLS/oauth/v2/keys" -o /dev/null; then
  echo "plaintext HTTP was answered on a TLS port" >&2
  exit 1
fi
echo "ok: TLS recipes"
