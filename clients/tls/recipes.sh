#!/usr/bin/env bash
# grpcurl and curl against tokend over TLS (serve --tls-cert --tls-key
# --tls-client-ca), copy-paste ready; CI runs this file against a live TLS
# server (clients/run-live.sh), checking every answer. Needs: TOKEND_TLS
# (host:port), CA (the CA's PEM file), ADMIN_ID and ADMIN_SECRET of a client
# holding tokend.introspect, and CERT and KEY of the workload certificate that
# the client mesh-worker is registered for (tls_client_auth, bound tokens):
#   tokend client create --id mesh-worker --scopes orders.read --default-scopes orders.read \
#     --auth-method tls_client_auth --tls-san-uri spiffe://example.org/ns/orders/sa/worker --bound-tokens
set -euo pipefail
: "${TOKEND_TLS:?host:port of a tokend serving TLS}" "${CA:?PEM file of the CA}" "${ADMIN_ID:?}" "${ADMIN_SECRET:?}"
: "${CERT:?the workload certificate}" "${KEY:?its key}"
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

# Mutual TLS: the workload has no secret; its certificate is its credential,
# and its tokens are bound to it (cnf.x5t#S256 = base64url SHA-256 of the DER).
thumbprint=$(openssl x509 -in "$CERT" -outform DER | openssl dgst -sha256 -binary | basenc --base64url | tr -d '=')
claims() { python3 -c "import base64,sys; p=sys.stdin.read().split('.')[1]; print(base64.urlsafe_b64decode(p+'='*(-len(p)%4)).decode())"; }
BOUND=$(grpcurl -cacert "$CA" -cert "$CERT" -key "$KEY" \
  -d '{"grant_type":"client_credentials","client_id":"mesh-worker"}' \
  "$TOKEND_TLS" tokend.v1.TokenService/IssueToken | field '["accessToken"]')
echo "$BOUND" | claims | field '["cnf"]["x5t#S256"]' | grep -qxF -- "$thumbprint"
curl -sf --cacert "$CA" --cert "$CERT" --key "$KEY" -d grant_type=client_credentials -d client_id=mesh-worker \
  "https://$TOKEND_TLS/oauth/v2/token" | field '["access_token"]' | claims | field '["cnf"]["x5t#S256"]' \
  | grep -qxF -- "$thumbprint"
# Introspection returns the binding, so a resource server can check it.
curl -sf --cacert "$CA" -u "$ADMIN_ID:$ADMIN_SECRET" --data-urlencode "token=$BOUND" \
  "https://$TOKEND_TLS/oauth/v2/introspect" | field '["cnf"]["x5t#S256"]' | grep -qxF -- "$thumbprint"
# Without the certificate the same request is invalid_client.
curl -s --cacert "$CA" -d grant_type=client_credentials -d client_id=mesh-worker \
  "https://$TOKEND_TLS/oauth/v2/token" | field '["error"]' | grep -qx invalid_client

# Plaintext is refused on a TLS port.
if curl -s --max-time 5 "http://$TOKEND_TLS/oauth/v2/keys" -o /dev/null; then
  echo "plaintext HTTP was answered on a TLS port" >&2
  exit 1
fi
echo "ok: TLS recipes"
