"""The cached, single-flight token source."""

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Optional, Tuple

import grpc

from tokend.v1 import token_service_pb2, token_service_pb2_grpc
from tokend_client import credentials
from tokend_client.errors import TokenError

_Key = Tuple[str, Tuple[str, ...]]


@dataclass(frozen=True)
class Token:
    """An access token and when to stop using it (``time.monotonic()`` seconds)."""

    access_token: str = field(repr=False)
    scope: str
    #: A margin before the real expiry, so the token is never sent stale.
    use_until: float
    #: From here on, callers still get this token while a fresh one is fetched in the background.
    refresh_from: float


class _Slot:
    """One per (scope, audience): its lock makes concurrent callers on an empty
    slot wait for the one fetch instead of starting their own."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token: Optional[Token] = None
        self.refreshing = False


class TokenSource:
    """Fetches and caches tokens for one client; safe to share between threads."""

    def __init__(
        self,
        channel: grpc.Channel,
        client_id: str,
        client_secret: str,
        *,
        refresh_ahead: Optional[float] = None,
        attempts: int = 4,
        first_backoff: float = 0.05,
        timeout: float = 10.0,
        _credentials: Optional[credentials.Fill] = None,
    ) -> None:
        """``refresh_ahead``: seconds before a token's ``use_until`` to fetch its
        successor in the background (by default, as long as the safety margin).
        ``attempts`` bounds the tries of one fetch while tokend is UNAVAILABLE."""
        # grpcio-tools writes the service stubs without type information.
        self._stub = token_service_pb2_grpc.TokenServiceStub(channel)  # type: ignore[no-untyped-call]
        self._client_id = client_id
        self._credentials = _credentials or credentials.secret(client_secret)
        self._refresh_ahead = refresh_ahead
        self._attempts = attempts
        self._first_backoff = first_backoff
        self._timeout = timeout
        self._slots: Dict[_Key, _Slot] = {}
        self._slots_lock = threading.Lock()

    @classmethod
    def with_private_key(
        cls, channel: grpc.Channel, client_id: str, key_pem: str, kid: str, algorithm: str, audience: str, **options: Any
    ) -> "TokenSource":
        """For a client registered with ``private_key_jwt``: every fetch signs a
        new assertion (a fresh ``jti``, a minute's life) with ``key_pem`` for
        ``audience``, tokend's issuer. ``algorithm`` is ES256, ES384, EdDSA,
        RS256 or PS256; ``kid`` names the public key in the client's JWK Set.
        Needs the ``keys`` extra (PyJWT with cryptography)."""
        fill = credentials.private_key(client_id, key_pem, kid, algorithm, audience)
        return cls(channel, client_id, "", _credentials=fill, **options)

    @classmethod
    def with_assertion_file(cls, channel: grpc.Channel, client_id: str, path: str, **options: Any) -> "TokenSource":
        """For a workload that proves itself with its platform's token (a
        Kubernetes projected service-account token, a GitHub Actions OIDC
        token, a SPIFFE JWT-SVID) that one of the client's federated
        identities accepts: every fetch reads the token again from ``path``."""
        return cls(channel, client_id, "", _credentials=credentials.assertion_file(path), **options)

    def __repr__(self) -> str:
        return f"TokenSource(client_id={self._client_id!r})"

    def token(self, scope: str = "", audience: Iterable[str] = ()) -> Token:
        """A token for ``scope`` (space-delimited; empty for the client's
        defaults) and ``audience`` (empty for the client's), from the cache while
        it is fresh. Raises ``TokenError``."""
        key = (scope, tuple(audience))
        with self._slots_lock:
            slot = self._slots.setdefault(key, _Slot())
        with slot.lock:
            now = time.monotonic()
            cached = slot.token
            if cached is not None and cached.use_until > now:
                if cached.refresh_from <= now and not slot.refreshing:
                    slot.refreshing = True
                    threading.Thread(target=self._refresh, args=(key, slot), daemon=True).start()
                return cached
            slot.token = self._fetch(key)
            return slot.token

    def _refresh(self, key: _Key, slot: _Slot) -> None:
        """Fetches a successor without holding up callers; on failure the cached
        token stays until it runs out."""
        try:
            token: Optional[Token] = self._fetch(key)
        except TokenError:
            token = None
        with slot.lock:
            if token is not None:
                slot.token = token
            slot.refreshing = False

    def _fetch(self, key: _Key) -> Token:
        scope, audience = key
        backoff = self._first_backoff
        for attempt in range(1, self._attempts + 1):
            request = token_service_pb2.IssueTokenRequest(
                grant_type="client_credentials",
                client_id=self._client_id,
                scope=scope,
                audience=list(audience),
            )
            # A fresh assertion for every try: a retried one would be a replay.
            try:
                self._credentials(request)
            except (OSError, ValueError) as error:
                raise TokenError(grpc.StatusCode.FAILED_PRECONDITION, f"cannot prepare the credentials: {error}") from None
            asked = time.monotonic()
            try:
                response = self._stub.IssueToken(request, timeout=self._timeout)
            except grpc.RpcError as error:
                failure = TokenError.from_rpc_error(error)
                if not failure.retryable or attempt == self._attempts:
                    raise failure from None
                # Between half and all of the backoff, so many clients do not retry in step.
                time.sleep(random.uniform(backoff / 2, backoff))
                backoff *= 2
                continue
            lifetime = max(response.expires_in, 0)
            # Stop a tenth of the lifetime early, at most a minute.
            margin = min(lifetime / 10, 60.0)
            use_until = asked + lifetime - margin
            ahead = min(margin if self._refresh_ahead is None else self._refresh_ahead, lifetime - margin)
            return Token(response.access_token, response.scope, use_until, use_until - ahead)
        raise AssertionError("unreachable: the last attempt returns or raises")
