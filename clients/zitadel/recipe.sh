#!/usr/bin/env bash
# ZITADEL's JWT profile against tokend, unchanged: `tokend client add-key`
# writes a ZITADEL service-account key file, and ZITADEL's own Python SDK
# (zitadel-client from PyPI, in a virtualenv of its own) gets tokens with it.
# Needs a running tokend at $TOKEND (host:port, plain HTTP) whose database is
# $TOKEND_DATABASE_URL, and the tokend binary as $TOKEND_BIN. Used by
# clients/run-live.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tokend="${TOKEND_BIN:-tokend}"
issuer="http://$TOKEND"
venv="${TOKEND_ZITADEL_VENV:-$HOME/.cache/tokend/zitadel-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
claims_of() { "$venv/bin/python" -c 'import base64,json,sys; p=sys.stdin.read().strip().split(".")[1]; print(json.dumps(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))))'; }

echo "== a service user with a key file, as ZITADEL's console downloads it"
# ZITADEL's SDK asks for these scopes unless told otherwise: the client must be allowed them.
"$tokend" client create --id zitadel-svc --scopes "openid urn:zitadel:iam:org:project:id:zitadel:aud" > /dev/null
"$tokend" client add-key --id zitadel-svc --out "$work/zitadel-svc.json"

echo "== ZITADEL's Python SDK, pointed at tokend"
"$venv/bin/python" -W ignore "$here/get_token.py" "$issuer" "$work/zitadel-svc.json" | claims_of > "$work/claims.json"
"$venv/bin/python" - "$work/claims.json" "$issuer" <<'PY'
import json, sys
claims = json.load(open(sys.argv[1]))
assert (claims["iss"], claims["sub"], claims["client_id"]) == (sys.argv[2], "zitadel-svc", "zitadel-svc"), claims
assert claims["scope"].split() == ["openid", "urn:zitadel:iam:org:project:id:zitadel:aud"], claims
PY
echo "ok: ZITADEL's SDK got zitadel-svc's token with the key file from tokend client add-key"

echo "== a service user not allowed ZITADEL's scopes is refused them"
"$tokend" client create --id plain-svc --scopes orders.read > /dev/null
"$tokend" client add-key --id plain-svc --out "$work/plain-svc.json" > /dev/null
if "$venv/bin/python" -W ignore "$here/get_token.py" "$issuer" "$work/plain-svc.json" > "$work/refused.txt" 2>&1; then
  echo "a client got scopes it is not allowed" >&2; exit 1
fi
grep -q invalid_scope "$work/refused.txt"
echo "ok: refused with invalid_scope"
