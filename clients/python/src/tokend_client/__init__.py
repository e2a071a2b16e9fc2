"""tokend-client: access tokens from tokend without calling it on every request.

``TokenSource`` fetches tokens with gRPC ``IssueToken``, proving its client
with a secret, a private key (``private_key_jwt``) or its platform's token
read from a file (or its TLS certificate), optionally binding the tokens to a
``DpopKey``, and caches each
(scope, audience) token until shortly before it expires, refreshing it in the
background; concurrent callers on an empty cache share one call; UNAVAILABLE is
retried with jittered backoff, authentication and authorisation failures never
are; ``AsyncTokenSource`` does the same for asyncio over ``grpc.aio``.
``with_bearer`` puts its tokens on every call made through a channel.
``Verifier`` checks tokens locally, as the Rust verifier does: signature,
``typ``, issuer, audience, lifetime, scopes, certificate or DPoP binding and
the token's status list; a refusal is ``InvalidToken``. ``AsyncVerifier`` is
the same for asyncio; ``grpc_server``, ``asgi`` and ``wsgi`` hold the
interceptors and middleware that refuse calls without a valid token.
``TxnVerifier`` checks Transaction Tokens; ``txn_grpc`` and ``txn_asgi``
exchange them at the edge, verify them at each hop and carry them on.
The generated stubs are in ``tokend.v1``.
"""

from tokend_client.async_source import AsyncTokenSource
from tokend_client.async_verifier import AsyncVerifier
from tokend_client.bearer import with_bearer
from tokend_client.claims import Claims
from tokend_client.dpop_key import DpopKey
from tokend_client.errors import TokenError
from tokend_client.refusal import InvalidToken
from tokend_client.source import Token, TokenSource
from tokend_client.txn import TxnClaims, TxnToken, TxnVerifier, current_txn_token, txn_headers
from tokend_client.verifier import Verifier

__all__ = ["AsyncTokenSource", "AsyncVerifier", "Claims", "DpopKey", "InvalidToken", "Token", "TokenError", "TokenSource", "TxnClaims", "TxnToken", "TxnVerifier",
           "Verifier", "current_txn_token", "txn_headers", "with_bearer"]
