"""The issuer's published keys: found through RFC 8414 discovery (the
metadata must name the same issuer), kept for their max age, fetched again
when a token names a key not seen yet, at most once per interval."""

import json
import ssl
import threading
import time
import urllib.parse
import urllib.request
from typing import Any, Dict, Optional

import jwt

from tokend_client.refusal import unavailable

FETCH_TIMEOUT_SECONDS = 5


class Http:
    """GETs over HTTP(S), trusting ``ca_file`` when given."""

    def __init__(self, ca_file: Optional[str] = None) -> None:
        self._context = ssl.create_default_context(cafile=ca_file) if ca_file else None

    def get(self, url: str, accept: str) -> bytes:
        request = urllib.request.Request(url, headers={"Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS, context=self._context) as answer:
                body: bytes = answer.read()
                return body
        except (OSError, ValueError) as error:
            raise unavailable(f"GET {url}: {error}") from error

    def get_json(self, url: str) -> Any:
        try:
            return json.loads(self.get(url, "application/json"))
        except ValueError as error:
            raise unavailable(f"GET {url}: not JSON") from error


def metadata_url(issuer: str) -> str:
    """RFC 8414 §3: the well-known segment goes between the host and any path."""
    parts = urllib.parse.urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{parts.path.rstrip('/')}"


class KeySet:
    def __init__(self, http: Http, jwks_uri: str, refetch_interval: float, max_age: float) -> None:
        self._http = http
        self._jwks_uri = jwks_uri
        self._refetch_interval = refetch_interval
        self._max_age = max_age
        self._lock = threading.Lock()
        self._keys: Dict[str, jwt.PyJWK] = self._fetch()
        self._fetched = self._last_attempt = time.monotonic()

    @classmethod
    def discover(cls, http: Http, issuer: str, refetch_interval: float, max_age: float) -> "KeySet":
        metadata = http.get_json(metadata_url(issuer))
        if metadata.get("issuer") != issuer:
            raise unavailable(f"the metadata names issuer {metadata.get('issuer')!r}, not {issuer!r}")
        return cls(http, metadata["jwks_uri"], refetch_interval, max_age)

    def key(self, kid: str) -> Optional[jwt.PyJWK]:
        """The key named ``kid``: fetched again if unknown or old, at most once
        per interval; known keys keep verifying while the issuer is unreachable."""
        if time.monotonic() - self._fetched < self._max_age and kid in self._keys:
            return self._keys[kid]
        with self._lock:
            fresh = time.monotonic() - self._fetched < self._max_age
            if not (fresh and kid in self._keys) and time.monotonic() - self._last_attempt >= self._refetch_interval:
                self._last_attempt = time.monotonic()
                try:
                    self._keys, self._fetched = self._fetch(), time.monotonic()
                except Exception:  # noqa: BLE001 - the keys in hand keep serving
                    pass
            return self._keys.get(kid)

    def _fetch(self) -> Dict[str, jwt.PyJWK]:
        keys: Dict[str, jwt.PyJWK] = {}
        for jwk in self._http.get_json(self._jwks_uri).get("keys", []):
            if jwk.get("use", "sig") != "sig" or "kid" not in jwk or "alg" not in jwk:
                continue
            try:
                keys[jwk["kid"]] = jwt.PyJWK.from_dict(jwk)
            except jwt.PyJWKError:
                continue
        return keys
