"""TokenSource without a secret, against a live tokend: a private key that
signs a fresh private_key_jwt assertion per fetch, and a platform's token
read from a file on every fetch (workload identity federation)."""

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import claims
from tokend_client import TokenError, TokenSource


def key_pair(kid: str):
    """A P-256 private key in PEM and its public JWK named ``kid``."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk["kid"] = kid
    return pem.decode(), jwk


def issuer(tokend) -> str:
    return f"http://{tokend.address}"


def test_a_private_key_gets_tokens_without_a_secret(tokend, tmp_path):
    pem, jwk = key_pair("py-1")
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": [jwk]}))
    out = tokend.cli("client", "create", "--id", "py-signer", "--scopes", "orders.read orders.write",
                     "--auth-method", "private_key_jwt", "--jwks-file", str(keys), "--json")
    assert "client_secret" not in json.loads(out)

    source = TokenSource.with_private_key(tokend.channel, "py-signer", pem, "py-1", "ES256", issuer(tokend))
    read = source.token("orders.read")
    write = source.token("orders.write")
    assert claims(read.access_token)["sub"] == "py-signer"
    assert claims(read.access_token)["jti"] != claims(write.access_token)["jti"]

    other_pem, _ = key_pair("py-1")
    stranger = TokenSource.with_private_key(tokend.channel, "py-signer", other_pem, "py-1", "ES256", issuer(tokend))
    with pytest.raises(TokenError) as refused:
        stranger.token()
    assert refused.value.oauth_error == "invalid_client"


def test_a_platform_token_in_a_file_authenticates_its_client(tokend, tmp_path):
    pem, jwk = key_pair("cluster-1")
    keys = tmp_path / "cluster.json"
    keys.write_text(json.dumps({"keys": [jwk]}))
    cluster = "https://kubernetes.default.svc.python"
    tokend.cli("issuer", "add", "--issuer", cluster, "--jwks-file", str(keys))
    tokend.cli("client", "create", "--id", "py-pod", "--scopes", "orders.read", "--auth-method", "none", "--json")
    tokend.cli("client", "federate", "--id", "py-pod", "--issuer", cluster,
               "--subject", "system:serviceaccount:orders:*", "--claim", "kubernetes.io.namespace=orders")

    now = int(time.time())
    projected = {
        "iss": cluster, "sub": "system:serviceaccount:orders:worker", "aud": [issuer(tokend)],
        "iat": now, "exp": now + 600, "kubernetes.io": {"namespace": "orders"},
    }
    path = tmp_path / "token"
    path.write_text(jwt.encode(projected, pem, algorithm="ES256", headers={"kid": "cluster-1"}))

    source = TokenSource.with_assertion_file(tokend.channel, "py-pod", str(path))
    # The running server reads trusted issuers added by the CLI on its next upkeep round.
    deadline = time.monotonic() + 15
    while True:
        try:
            token = source.token("orders.read")
            break
        except TokenError as error:
            if error.oauth_error != "invalid_client" or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert claims(token.access_token)["federated"] == {"iss": cluster, "sub": "system:serviceaccount:orders:worker"}

    path.unlink()
    with pytest.raises(TokenError) as missing:
        TokenSource.with_assertion_file(tokend.channel, "py-pod", str(path)).token()
    assert "cannot prepare the credentials" in missing.value.message
