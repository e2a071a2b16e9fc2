"""What the sync and asyncio token sources share: the client's credentials,
the request they send, how long a token is used, and how long to wait
before asking again while tokend is UNAVAILABLE."""

import random
from dataclasses import dataclass, field
from typing import Any, Dict, Generic, Optional, Tuple, Type, TypeVar, cast

import grpc

from tokend.v1 import token_service_pb2
from tokend_client import credentials
from tokend_client.dpop_key import DpopKey
from tokend_client.errors import TokenError

Key = Tuple[str, Tuple[str, ...]]
_Source = TypeVar("_Source", bound="Fetching")
_Lock = TypeVar("_Lock")


@dataclass(frozen=True)
class Token:
    """An access token and when to stop using it (``time.monotonic()`` seconds)."""

    access_token: str = field(repr=False)
    scope: str
    #: A margin before the real expiry, so the token is never sent stale.
    use_until: float
    #: From here on, callers still get this token while a fresh one is fetched in the background.
    refresh_from: float
    #: ``Bearer``, or ``DPoP`` for a token bound to the source's DPoP key.
    token_type: str = "Bearer"


class Slot(Generic[_Lock]):
    """One per (scope, audience): its lock (a thread's or a task's) makes
    concurrent callers on an empty slot wait for the one fetch instead of
    starting their own."""

    def __init__(self, lock: _Lock) -> None:
        self.lock = lock
        self.token: Optional[Token] = None
        self.refreshing = False


class Fetching:
    """A client's credentials and the rules of fetching its tokens."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        refresh_ahead: Optional[float] = None,
        attempts: int = 4,
        first_backoff: float = 0.05,
        timeout: float = 10.0,
        dpop: Optional[DpopKey] = None,
        origin: Optional[str] = None,
        _credentials: Optional[credentials.Fill] = None,
    ) -> None:
        """``refresh_ahead``: seconds before a token's ``use_until`` to fetch its
        successor in the background (by default, as long as the safety margin).
        ``attempts`` bounds the tries of one fetch while tokend is UNAVAILABLE.
        With ``dpop``, every token is bound to that key (RFC 9449): each request
        carries a fresh proof naming ``origin``, tokend's URL
        (``http://tokend:50051``), and a nonce tokend asks for is sent from then on."""
        if dpop is not None and not origin:
            raise ValueError("a DPoP key needs origin, tokend's URL as proofs name it")
        self._client_id = client_id
        self._credentials = _credentials or credentials.secret(client_secret)
        self._refresh_ahead = refresh_ahead
        self._attempts = attempts
        self._first_backoff = first_backoff
        self._timeout = timeout
        #: The DPoP key tokens are bound to, if any; calls presenting them sign proofs with it.
        self.dpop_key = dpop
        self._proof_url = f"{(origin or '').rstrip('/')}/tokend.v1.TokenService/IssueToken"
        self._dpop_nonce: Optional[str] = None

    @classmethod
    def with_private_key(
        cls: Type[_Source], channel: Any, client_id: str, key_pem: str, kid: str, algorithm: str, audience: str, **options: Any
    ) -> _Source:
        """For a client registered with ``private_key_jwt``: every fetch signs a
        new assertion (a fresh ``jti``, a minute's life) with ``key_pem`` for
        ``audience``, tokend's issuer. ``algorithm`` is ES256, ES384, EdDSA,
        RS256 or PS256; ``kid`` names the public key in the client's JWK Set.
        Needs the ``keys`` extra (PyJWT with cryptography)."""
        fill = credentials.private_key(client_id, key_pem, kid, algorithm, audience)
        return _made(cls, channel, client_id, fill, options)

    @classmethod
    def with_assertion_file(cls: Type[_Source], channel: Any, client_id: str, path: str, **options: Any) -> _Source:
        """For a workload that proves itself with its platform's token (a
        Kubernetes projected service-account token, a GitHub Actions OIDC
        token, a SPIFFE JWT-SVID) that one of the client's federated
        identities accepts: every fetch reads the token again from ``path``."""
        return _made(cls, channel, client_id, credentials.assertion_file(path), options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client_id={self._client_id!r})"

    def _request(self, key: Key) -> token_service_pb2.IssueTokenRequest:
        """The request for one try: a fresh assertion each time, as a retried one would be a replay."""
        scope, audience = key
        request = token_service_pb2.IssueTokenRequest(
            grant_type="client_credentials", client_id=self._client_id, scope=scope, audience=list(audience)
        )
        try:
            self._credentials(request)
        except (OSError, ValueError) as error:
            raise TokenError(grpc.StatusCode.FAILED_PRECONDITION, f"cannot prepare the credentials: {error}") from None
        return request

    def _metadata(self) -> Tuple[Tuple[str, str], ...]:
        """A fresh DPoP proof for one try, when the source has a key."""
        if self.dpop_key is None:
            return ()
        return (("dpop", self.dpop_key.proof("POST", self._proof_url, nonce=self._dpop_nonce)),)

    def _nonce_asked(self, failure: TokenError) -> bool:
        """Whether tokend asked for a (new) DPoP nonce, which the next try then carries."""
        if self.dpop_key is None or failure.oauth_error != "use_dpop_nonce" or not failure.dpop_nonce:
            return False
        fresh, self._dpop_nonce = failure.dpop_nonce != self._dpop_nonce, failure.dpop_nonce
        return fresh

    def _token(self, response: token_service_pb2.IssueTokenResponse, asked: float) -> Token:
        lifetime = max(response.expires_in, 0)
        # Stop a tenth of the lifetime early, at most a minute.
        margin = min(lifetime / 10, 60.0)
        use_until = asked + lifetime - margin
        ahead = min(margin if self._refresh_ahead is None else self._refresh_ahead, lifetime - margin)
        return Token(response.access_token, response.scope, use_until, use_until - ahead, response.token_type or "Bearer")

    def _pause(self, failure: TokenError, attempt: int, backoff: float) -> Optional[float]:
        """How long to wait before the next try, or ``None`` to give up: only
        UNAVAILABLE and a rate limit's RESOURCE_EXHAUSTED are retried, after
        the server's ``RetryInfo`` delay when it sent one, else between half and
        all of ``backoff`` (so many clients do not retry in step)."""
        if not failure.retryable or attempt == self._attempts:
            return None
        return failure.retry_after if failure.retry_after is not None else random.uniform(backoff / 2, backoff)


def _made(cls: Type[_Source], channel: Any, client_id: str, fill: credentials.Fill, options: Dict[str, Any]) -> _Source:
    """A source of class ``cls`` (which takes a channel first) proving its client with ``fill``."""
    made = cast(Any, cls)(channel, client_id, "", _credentials=fill, **options)
    return cast(_Source, made)
