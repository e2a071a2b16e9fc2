"""Local verification of tokend's access tokens, with the checks the Rust
``Verifier`` makes: the signature with the algorithm the key was published
for, ``typ`` ``at+jwt``, ``iss``, ``aud``, ``exp``/``nbf`` with leeway, the
scopes a call needs, the binding to a certificate (RFC 8705) or a DPoP key
(RFC 9449), and the token's bit in its status list."""

import base64
import hashlib
import threading
import time
from typing import Dict, Iterable, Optional, Tuple


from tokend_client import signed
from tokend_client.claims import Claims
from tokend_client.dpop_check import DpopChecker
from tokend_client.keys import Http, KeySet
from tokend_client.refusal import InvalidToken
from tokend_client.status_list import StatusLists

#: The ``typ`` of RFC 9068 access tokens, and its media-type form.
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
#: Tokens remembered as verified at once.
SEEN_CAPACITY = 10_000


class Verifier:
    """Checks tokend access tokens for one API. Safe to share between threads."""

    def __init__(self, issuer: str, audience: str, keys: KeySet, status: StatusLists, *,
                 leeway: float, key_max_age: float, dpop_proof_max_age: float) -> None:
        self.issuer, self.audience = issuer, audience
        self._keys, self._status = keys, status
        self._leeway, self._key_max_age = leeway, key_max_age
        self._dpop = DpopChecker(dpop_proof_max_age)
        self._seen: Dict[str, Tuple[Claims, float]] = {}
        self._seen_lock = threading.Lock()

    @classmethod
    def discover(cls, issuer: str, audience: str, *, ca_file: Optional[str] = None, leeway: float = 10,
                 refetch_interval: float = 10, key_max_age: float = 300, dpop_proof_max_age: float = 60,
                 fail_open_on_unreachable_status_lists: bool = False) -> "Verifier":
        """Finds the keys through the issuer's RFC 8414 metadata and fetches them
        now, so a misconfigured issuer fails at start. With
        ``fail_open_on_unreachable_status_lists``, a token whose status list
        cannot be had (and whose last copy expired) is accepted, not refused."""
        http = Http(ca_file)
        keys = KeySet.discover(http, issuer, refetch_interval, key_max_age)
        status = StatusLists(http, keys, fail_open=fail_open_on_unreachable_status_lists,
                             retry_interval=refetch_interval, leeway=leeway)
        return cls(issuer, audience, keys, status, leeway=leeway, key_max_age=key_max_age,
                   dpop_proof_max_age=dpop_proof_max_age)

    def verify(self, token: str, *, scopes: Iterable[str] = (), certificate_der: Optional[bytes] = None,
               dpop_proof: Optional[str] = None, method: Optional[str] = None, url: Optional[str] = None) -> Claims:
        """The claims of ``token`` if it may be used for a call needing
        ``scopes``: over a connection whose client certificate is
        ``certificate_der``, and with ``dpop_proof`` for ``method`` ``url``
        when it came with the DPoP scheme. Raises ``InvalidToken``."""
        claims = self._seen_claims(token) or self._check(token)
        self._confirm(claims, token, certificate_der, dpop_proof, method, url)
        reference = (claims.status or {}).get("status_list")
        if isinstance(reference, dict):
            idx, uri = reference.get("idx"), reference.get("uri")
            if not isinstance(idx, int) or not isinstance(uri, str):
                raise InvalidToken("malformed token status")
            self._status.check(uri, idx)
        required = tuple(scopes)
        if any(scope not in claims.scopes for scope in required):
            raise InvalidToken(f"this call needs scope \"{' '.join(required)}\"", error="insufficient_scope",
                               scope=" ".join(required))
        return claims

    @property
    def status_list_counts(self) -> Dict[str, int]:
        """Status lists fetched, and fetches that failed, for the service's metrics."""
        return {"fetched": self._status.fetched, "failed": self._status.failed}

    def _check(self, token: str) -> Claims:
        raw = signed.check(self._keys, token, types=ACCESS_TOKEN_TYPES, wrong_type="not an access token (typ)",
                           issuer=self.issuer, audience=self.audience, leeway=self._leeway,
                           require=("exp", "iss", "aud", "sub"))
        claims = Claims(raw)
        self._remember(token, claims)
        return claims

    def _confirm(self, claims: Claims, token: str, certificate_der: Optional[bytes], dpop_proof: Optional[str],
                 method: Optional[str], url: Optional[str]) -> None:
        cnf = claims.cnf or {}
        x5t = cnf.get("x5t#S256")
        if x5t is not None:
            if certificate_der is None:
                raise InvalidToken("token is bound to a client certificate and none was presented")
            if _b64url(hashlib.sha256(certificate_der).digest()) != x5t:
                raise InvalidToken("token is bound to another client certificate")
        jkt = cnf.get("jkt")
        if jkt is None and dpop_proof is not None:
            raise InvalidToken("token is not DPoP-bound; present it as a bearer token")
        if jkt is not None:
            if dpop_proof is None:
                raise InvalidToken("token is DPoP-bound; present it with the DPoP scheme and a proof")
            if method is None or url is None:
                raise InvalidToken("a DPoP-bound token needs the call it came with to be checked")
            self._dpop.check(dpop_proof, method, url, token, jkt)

    def _seen_claims(self, token: str) -> Optional[Claims]:
        entry = self._seen.get(token)
        if entry is None:
            return None
        claims, until = entry
        now = time.time()
        if now >= until or now + self._leeway < claims.nbf:
            return None
        return claims

    def _remember(self, token: str, claims: Claims) -> None:
        until = min(claims.exp + self._leeway, time.time() + self._key_max_age)
        with self._seen_lock:
            if len(self._seen) >= SEEN_CAPACITY:
                now = time.time()
                self._seen = {seen: entry for seen, entry in self._seen.items() if entry[1] > now}
            if len(self._seen) < SEEN_CAPACITY:
                self._seen[token] = (claims, until)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
