#!/usr/bin/env bash
# Clients without a secret, as the README shows them: a service with only a
# private key (private_key_jwt), and a workload with only its platform's
# token (a Kubernetes projected service-account token; workload identity
# federation). Needs a running tokend at $TOKEND (host:port, plain HTTP)
# whose database is $TOKEND_DATABASE_URL, the tokend binary as $TOKEND_BIN,
# and a Python with PyJWT[crypto] as $PYTHON. Used by clients/run-live.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tokend="${TOKEND_BIN:-tokend}"
python="${PYTHON:-python3}"
issuer="http://$TOKEND"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
token_of() { "$python" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
claim_of() { "$python" -c 'import base64,json,sys; p=sys.stdin.read().strip().split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))'"$1"')'; }

echo "== private_key_jwt: a key pair, its public half registered, no secret"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out signer.key 2>/dev/null
"$python" "$here/jwks.py" signer.key signer-1 > signer.jwks
"$tokend" client create --id orders-signer --scopes orders.read --default-scopes orders.read \
  --auth-method private_key_jwt --jwks-file signer.jwks --json

echo "== federation: trust a cluster's keys; a client its payments service accounts act as"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out cluster.key 2>/dev/null
"$python" "$here/jwks.py" cluster.key cluster-1 > cluster.jwks
"$tokend" issuer add --issuer https://kubernetes.default.svc.cluster.local --jwks-file cluster.jwks
"$tokend" client create --id payments-deployer --scopes deploy --default-scopes deploy --auth-method none --json
"$tokend" client federate --id payments-deployer --issuer https://kubernetes.default.svc.cluster.local \
  --subject 'system:serviceaccount:payments:*' --claim kubernetes.io.namespace=payments

echo "== a private_key_jwt assertion at the token endpoint, and over gRPC"
assertion=$("$python" "$here/sign.py" signer.key signer-1 \
  "{\"iss\": \"orders-signer\", \"sub\": \"orders-signer\", \"aud\": \"$issuer\"}")
curl -sf "$issuer/oauth/v2/token" -d grant_type=client_credentials \
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
  -d client_assertion="$assertion" | token_of | claim_of '["sub"]' | grep -qx orders-signer
echo "ok: orders-signer got a token over HTTP with its key"
assertion=$("$python" "$here/sign.py" signer.key signer-1 \
  "{\"iss\": \"orders-signer\", \"sub\": \"orders-signer\", \"aud\": \"$issuer\"}")
grpcurl -plaintext -d "{\"grant_type\": \"client_credentials\", \"client_assertion_type\":
  \"urn:ietf:params:oauth:client-assertion-type:jwt-bearer\", \"client_assertion\": \"$assertion\"}" \
  "$TOKEND" tokend.v1.TokenService/IssueToken | grep -q accessToken
echo "ok: orders-signer got a token over gRPC with its key"
if curl -sf "$issuer/oauth/v2/token" -d grant_type=client_credentials \
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
  -d client_assertion="$assertion" > /dev/null; then
  echo "a replayed assertion was accepted" >&2; exit 1
fi
echo "ok: the same assertion again is refused"

echo "== a projected service-account token at the token endpoint"
projected=$("$python" "$here/sign.py" cluster.key cluster-1 "{\"iss\": \"https://kubernetes.default.svc.cluster.local\",
  \"sub\": \"system:serviceaccount:payments:worker\", \"aud\": [\"$issuer\"], \"exp\": $(($(date +%s) + 3600)),
  \"kubernetes.io\": {\"namespace\": \"payments\", \"serviceaccount\": {\"name\": \"worker\"}}}")
for _ in 1 2; do  # a platform's token may be presented again within its life
  curl -sf "$issuer/oauth/v2/token" -d grant_type=client_credentials -d client_id=payments-deployer \
    -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    -d client_assertion="$projected" | token_of | claim_of '["federated"]["sub"]' \
    | grep -qx system:serviceaccount:payments:worker
done
echo "ok: payments-deployer got tokens with the worker's service-account token"
