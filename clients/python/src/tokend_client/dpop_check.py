"""DPoP at the resource server (RFC 9449 §7): a DPoP-bound token is accepted
only with one fresh proof signed by the key it is bound to (``cnf.jkt``), for
this call's method and URL and this token (``ath``), used once (remembered in
this process for the proof's window). The same rules as tokend's token
endpoint and the Rust verifier."""

import base64
import hashlib
import json
import threading
import time
import urllib.parse
from typing import Any, Dict, Tuple

import jwt

from tokend_client.refusal import InvalidToken

#: The algorithms a proof may be signed with; never ``none`` or a MAC.
PROOF_ALGORITHMS = ("ES256", "ES384", "EdDSA", "RS256", "PS256")
#: JWK members only a private key has.
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
#: JWK members a thumbprint is made of (RFC 7638 §3.2), by key type.
THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}
#: How far ahead of this clock a proof's ``iat`` may be.
FUTURE_LEEWAY_SECONDS = 5
#: Proofs remembered at once; past it, new ones are refused, never old ones forgotten.
SEEN_CAPACITY = 100_000


def refuse(description: str) -> InvalidToken:
    return InvalidToken(description, error="invalid_dpop_proof")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk: Dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, without whitespace."""
    members = THUMBPRINT_MEMBERS.get(jwk.get("kty", ""))
    if members is None or any(not isinstance(jwk.get(name), str) for name in members):
        raise refuse("the DPoP proof's jwk is not a usable key")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def same_resource(htu: str, url: str) -> bool:
    """RFC 9449 §4.3 check 9: the same URI without query and fragment, after
    RFC 3986 normalisation (scheme and host in lower case, default ports dropped)."""

    def normal(text: str) -> Tuple[str, str, int, str]:
        parts = urllib.parse.urlsplit(text)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0)
        return parts.scheme.lower(), (parts.hostname or "").lower(), port, parts.path or "/"

    try:
        return normal(htu) == normal(url)
    except ValueError:
        return False


class DpopChecker:
    def __init__(self, max_age: float) -> None:
        self._max_age = int(max_age)
        self._seen: Dict[str, int] = {}
        self._lock = threading.Lock()

    def check(self, proof: str, method: str, url: str, token: str, jkt: str) -> None:
        jwk, claims = _open(proof)
        if thumbprint(jwk) != jkt:
            raise refuse("the DPoP proof is signed by another key than the token is bound to")
        if claims.get("htm") != method:
            raise refuse("the DPoP proof is for another method")
        if not isinstance(claims.get("htu"), str) or not same_resource(claims["htu"], url):
            raise refuse("the DPoP proof is for another URL")
        if claims.get("ath") != b64url(hashlib.sha256(token.encode()).digest()):
            raise refuse("the DPoP proof is for another token (ath)")
        now = int(time.time())
        iat = claims.get("iat")
        if not isinstance(iat, int) or isinstance(iat, bool):
            raise refuse("the DPoP proof has no iat")
        if iat < now - self._max_age or iat > now + FUTURE_LEEWAY_SECONDS:
            raise refuse("the DPoP proof is too old or from the future")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise refuse("the DPoP proof has no jti")
        self._first_use(f"{jkt}\0{jti}", iat + self._max_age + FUTURE_LEEWAY_SECONDS + 1, now)

    def _first_use(self, key: str, until: int, now: int) -> None:
        digest = hashlib.sha256(key.encode()).hexdigest()
        with self._lock:
            if len(self._seen) >= SEEN_CAPACITY:
                self._seen = {seen: end for seen, end in self._seen.items() if end > now}
            if self._seen.get(digest, 0) > now:
                raise refuse("the DPoP proof was used before")
            if len(self._seen) >= SEEN_CAPACITY:
                raise refuse("too many DPoP proofs at once; try again")
            self._seen[digest] = until


def _open(proof: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The key and claims of a proof whose header and signature hold."""
    try:
        header = jwt.get_unverified_header(proof)
    except jwt.PyJWTError as error:
        raise refuse("the DPoP proof is not a JWT") from error
    if header.get("typ") != "dpop+jwt":
        raise refuse("the DPoP proof's typ must be dpop+jwt")
    algorithm = header.get("alg")
    if algorithm not in PROOF_ALGORITHMS:
        raise refuse("the DPoP proof's alg must be one of ES256, ES384, EdDSA, RS256, PS256")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise refuse("the DPoP proof has no jwk")
    if any(member in jwk for member in PRIVATE_MEMBERS):
        raise refuse("the DPoP proof's jwk must be a public key")
    try:
        key = jwt.PyJWK.from_dict(jwk, algorithm=algorithm)
        claims: Dict[str, Any] = jwt.decode(
            proof, key, algorithms=[algorithm], options={"verify_exp": False, "verify_iat": False, "verify_aud": False, "require": []}
        )
    except (jwt.PyJWTError, jwt.PyJWKError, ValueError) as error:
        raise refuse("the DPoP proof's signature does not verify with its jwk") from error
    return jwk, claims
