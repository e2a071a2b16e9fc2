"""Transaction Tokens (draft-ietf-oauth-transaction-tokens-10) for Python
services: ``TxnVerifier`` checks one locally (tokend's signature, ``typ``
``txntoken+jwt``, ``aud`` = the trust domain, ``exp``, the scopes a call
needs), and ``current_txn_token()`` is the one of the call being handled,
set by the serving integrations (``txn_grpc``, ``txn_asgi``) and sent on by
the propagating ones."""

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Mapping, Optional

from tokend_client import signed
from tokend_client.keys import Http, KeySet
from tokend_client.refusal import InvalidToken

#: The ``typ`` of Transaction Tokens.
TXN_TOKEN_TYP = "txntoken+jwt"
#: The token type a token exchange asks for to get one.
TXN_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:txn_token"
#: The HTTP header (and gRPC metadata key) it travels in.
TXN_TOKEN_HEADER = "txn-token"


@dataclass(frozen=True)
class TxnClaims:
    """The claims of a verified Transaction Token."""

    txn: str
    sub: str
    scope: str
    #: The workload that asked tokend for the token.
    req_wl: str
    aud: str
    exp: int
    iat: int
    #: The originating request's environment (``req_ip``, ``authn``, …).
    rctx: Mapping[str, Any] = field(default_factory=dict)
    #: What stays fixed through the call chain: the request's details.
    tctx: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> "TxnClaims":
        try:
            return cls(str(raw["txn"]), str(raw["sub"]), str(raw.get("scope", "")), str(raw["req_wl"]), str(raw["aud"]),
                       int(raw["exp"]), int(raw.get("iat", 0)), dict(raw.get("rctx") or {}), dict(raw.get("tctx") or {}))
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidToken("malformed token") from error

    @property
    def scopes(self) -> "tuple[str, ...]":
        return tuple(scope for scope in self.scope.split(" ") if scope)


@dataclass(frozen=True)
class TxnToken:
    """A verified Transaction Token as received, to pass on unchanged, and its claims."""

    token: str = field(repr=False)
    claims: TxnClaims


_current: ContextVar[Optional[TxnToken]] = ContextVar("tokend_txn_token", default=None)


def current_txn_token() -> Optional[TxnToken]:
    """The Transaction Token of the call being handled, if it came with one."""
    return _current.get()


class TxnVerifier:
    """Checks Transaction Tokens for one trust domain. Safe to share between threads."""

    def __init__(self, issuer: str, trust_domain: str, keys: KeySet, *, leeway: float) -> None:
        self.issuer, self.trust_domain = issuer, trust_domain
        self._keys, self._leeway = keys, leeway

    @classmethod
    def discover(cls, issuer: str, trust_domain: str, *, ca_file: Optional[str] = None, leeway: float = 10,
                 refetch_interval: float = 10, key_max_age: float = 300) -> "TxnVerifier":
        """For Txn-Tokens tokend at ``issuer`` signs for ``trust_domain`` (its
        ``--txn-token-audience``, by default the issuer); keys are fetched now."""
        keys = KeySet.discover(Http(ca_file), issuer, refetch_interval, key_max_age)
        return cls(issuer, trust_domain, keys, leeway=leeway)

    def verify(self, token: str, *, scopes: Iterable[str] = ()) -> TxnClaims:
        """The claims of ``token`` if it is a live Transaction Token of this trust
        domain holding ``scopes``. Raises ``InvalidToken``."""
        raw: Dict[str, Any] = signed.check(
            self._keys, token, types=(TXN_TOKEN_TYP,), wrong_type="not a Transaction Token (typ)",
            issuer=self.issuer, audience=self.trust_domain, leeway=self._leeway, require=("exp", "iss", "aud", "sub"),
        )
        claims = TxnClaims.of(raw)
        required = tuple(scopes)
        if any(scope not in claims.scopes for scope in required):
            raise InvalidToken(f"this call needs scope \"{' '.join(required)}\"", error="insufficient_scope",
                               scope=" ".join(required))
        return claims


def txn_headers() -> Dict[str, str]:
    """The header an outgoing HTTP call sends the current Transaction Token in; empty without one."""
    current = current_txn_token()
    return {TXN_TOKEN_HEADER: current.token} if current else {}
