"""DPoP (RFC 9449) for callers: a key pair the client keeps, and the proofs
it signs with it, one per request: for tokend's ``IssueToken`` (which then
binds the token to the key) and, with ``ath``, for every call that presents
such a token."""

import base64
import hashlib
import json
import os
import time
from typing import Any, Dict, Optional

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from tokend_client.dpop_check import thumbprint


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DpopKey:
    """A client's P-256 DPoP key, in memory only. Its ``repr`` shows the thumbprint, nothing of the key."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self._jwk: Dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        #: The RFC 7638 thumbprint a bound token's ``cnf.jkt`` names.
        self.thumbprint = thumbprint(self._jwk)

    @classmethod
    def generate(cls) -> "DpopKey":
        return cls(ec.generate_private_key(ec.SECP256R1()))

    def proof(self, method: str, url: str, access_token: Optional[str] = None, nonce: Optional[str] = None) -> str:
        """A proof for one ``method`` ``url`` call (query and fragment dropped);
        with ``access_token``, for a call presenting it (``ath``)."""
        claims: Dict[str, Any] = {
            "htm": method, "htu": url.split("?")[0].split("#")[0], "iat": int(time.time()), "jti": _b64url(os.urandom(16)),
        }
        if access_token is not None:
            claims["ath"] = _b64url(hashlib.sha256(access_token.encode()).digest())
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": self._jwk})

    def __repr__(self) -> str:
        return f"DpopKey(thumbprint={self.thumbprint!r})"
