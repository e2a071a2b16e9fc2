"""The Python Verifier against a live tokend: what it accepts, and each
refusal with the OAuth error a caller would get: forged, foreign and
mistyped tokens, scopes, DPoP-bound tokens and their proofs, and a token
revoked through its status list."""

import base64
import hashlib
import hmac
import json
import os
import time
import urllib.request

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tokend_client import InvalidToken, Verifier

API = "https://orders.example/orders/42"


def _post(url: str, form: bytes, basic=None, dpop=None) -> dict:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    if dpop:
        headers["DPoP"] = dpop
    request = urllib.request.Request(url, data=form, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as answer:
        body = answer.read()
    return json.loads(body) if body else {}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DpopKey:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))

    def proof(self, method: str, url: str, token=None, **changes) -> str:
        claims = {"htm": method, "htu": url, "iat": int(time.time()), "jti": os.urandom(12).hex()}
        if token:
            claims["ath"] = _b64(hashlib.sha256(token.encode()).digest())
        claims.update(changes)
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": self.jwk})


@pytest.fixture(scope="module")
def base(tokend) -> str:
    return f"http://{tokend.address}"


@pytest.fixture(scope="module")
def verifier(base) -> Verifier:
    return Verifier.discover(base, "orders")


def _token(base: str, tokend) -> str:
    answer = _post(f"{base}/oauth/v2/token", b"grant_type=client_credentials", basic=("orders-worker", tokend.worker_secret))
    return answer["access_token"]


def _refused(verifier: Verifier, token: str, **kwargs) -> InvalidToken:
    with pytest.raises(InvalidToken) as refused:
        verifier.verify(token, **kwargs)
    return refused.value


def test_a_token_of_this_issuer_for_this_api_is_accepted_with_its_claims(base, tokend, verifier):
    token = _token(base, tokend)
    claims = verifier.verify(token, scopes=["orders.read"])
    assert (claims.sub, claims.client_id, claims.scopes) == ("orders-worker", "orders-worker", ("orders.read",))
    assert claims.aud == ["orders"] and claims.get("status")["status_list"]["uri"].startswith(base)
    assert verifier.verify(token) is claims, "a token seen before is not checked again"


def test_a_missing_scope_is_insufficient_scope_naming_what_the_call_needs(base, tokend, verifier):
    refused = _refused(verifier, _token(base, tokend), scopes=["orders.read", "orders.write"])
    assert (refused.error, refused.http_status, refused.scope) == ("insufficient_scope", 403, "orders.read orders.write")
    assert refused.www_authenticate == 'Bearer error="insufficient_scope", scope="orders.read orders.write"'


def test_another_api_or_another_issuer_refuses_it(base, tokend):
    token = _token(base, tokend)
    refused = _refused(Verifier.discover(base, "billing"), token)
    assert (refused.error, refused.description, refused.http_status) == ("invalid_token", "token is for another audience", 401)
    port = tokend.address.rsplit(":", 1)[1]
    with pytest.raises(InvalidToken) as misnamed:
        Verifier.discover(f"http://localhost:{port}", "orders")
    assert misnamed.value.error == "temporarily_unavailable", "the metadata names another issuer"


def test_forged_and_mistyped_tokens_are_invalid(base, tokend, verifier):
    token = _token(base, tokend)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    kid = jwt.get_unverified_header(token)["kid"]
    public_jwk = json.loads(urllib.request.urlopen(f"{base}/oauth/v2/keys").read())["keys"][0]
    widened = _b64(json.dumps({**claims, "scope": "orders.read orders.write"}).encode())
    other_key = ec.generate_private_key(ec.SECP256R1())
    cases = {
        "alg none": jwt.encode(claims, None, algorithm="none", headers={"typ": "at+jwt", "kid": kid}),
        "HS256 with the public key": _hs256_with(json.dumps(public_jwk).encode(), kid, payload),
        "a changed claim": f"{header}.{widened}.{signature}",
        "another key, same kid": jwt.encode(claims, other_key, algorithm="ES256", headers={"typ": "at+jwt", "kid": kid}),
        "an unknown kid": jwt.encode(claims, other_key, algorithm="ES256", headers={"typ": "at+jwt", "kid": "nobody"}),
        "not an access token": jwt.encode(claims, other_key, algorithm="ES256", headers={"typ": "JWT", "kid": kid}),
        "garbage": "not.a.token",
    }
    for name, forged in cases.items():
        assert _refused(verifier, forged).error == "invalid_token", name


def test_a_revoked_token_is_refused_through_its_status_list(base, tokend, verifier):
    revoked, kept = _token(base, tokend), _token(base, tokend)
    _post(f"{base}/oauth/v2/revoke", f"token={revoked}".encode(), basic=("orders-worker", tokend.worker_secret))
    fresh = Verifier.discover(base, "orders")
    refused = _refused(fresh, revoked)
    assert (refused.error, refused.description) == ("invalid_token", "token revoked")
    fresh.verify(kept)
    assert fresh.status_list_counts == {"fetched": 1, "failed": 0}


def test_a_dpop_bound_token_needs_one_fresh_proof_of_its_key_for_this_call(base, tokend, verifier):
    secret = json.loads(tokend.cli("client", "create", "--id", "dpop-svc", "--scopes", "orders.read",
                                   "--audience", "orders", "--dpop-bound", "--json"))["client_secret"]
    key = DpopKey()
    answer = _post(f"{base}/oauth/v2/token", b"grant_type=client_credentials", basic=("dpop-svc", secret),
                   dpop=key.proof("POST", f"{base}/oauth/v2/token"))
    token = answer["access_token"]
    assert answer["token_type"] == "DPoP"

    proof = key.proof("GET", API, token)
    claims = verifier.verify(token, dpop_proof=proof, method="GET", url=API + "?page=2")
    assert claims.cnf == {"jkt": key_thumbprint(key.jwk)}
    refusals = {
        "replayed": dict(dpop_proof=proof, method="GET", url=API),
        "another method": dict(dpop_proof=key.proof("POST", API, token), method="GET", url=API),
        "another URL": dict(dpop_proof=key.proof("GET", "https://orders.example/other", token), method="GET", url=API),
        "another token": dict(dpop_proof=key.proof("GET", API, "something else"), method="GET", url=API),
        "another key": dict(dpop_proof=DpopKey().proof("GET", API, token), method="GET", url=API),
        "too old": dict(dpop_proof=key.proof("GET", API, token, iat=int(time.time()) - 3600), method="GET", url=API),
    }
    for name, call in refusals.items():
        refused = _refused(verifier, token, **call)
        assert (refused.error, refused.http_status) == ("invalid_dpop_proof", 401), name
    assert _refused(verifier, token).description == "token is DPoP-bound; present it with the DPoP scheme and a proof"
    plain = _token(base, tokend)
    refused = _refused(verifier, plain, dpop_proof=key.proof("GET", API, plain), method="GET", url=API)
    assert refused.description == "token is not DPoP-bound; present it as a bearer token"


def _hs256_with(secret: bytes, kid: str, payload: str) -> str:
    """A token MACed with the public key as the secret: the algorithm-confusion forgery."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode())
    return f"{header}.{payload}." + _b64(hmac.new(secret, f"{header}.{payload}".encode(), "sha256").digest())


def key_thumbprint(jwk: dict) -> str:
    canonical = json.dumps({name: jwk[name] for name in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())
