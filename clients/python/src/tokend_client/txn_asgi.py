"""Transaction Tokens for ASGI services (Starlette, FastAPI): a middleware
that lets a request through only with a valid ``Txn-Token`` header, and
makes the token current (``current_txn_token()``; ``txn_headers()`` for the
calls the request makes) while the app handles it. Refusals are 401, 403
or 503 with the OAuth error as JSON."""

import asyncio
from typing import Iterable

from tokend_client.asgi import App, Receive, Scope, Send, refuse
from tokend_client.refusal import InvalidToken
from tokend_client.txn import TxnToken, TxnVerifier, _current


class TxnTokenMiddleware:
    """Every HTTP request needs a Transaction Token of the verifier's trust domain holding ``scopes``."""

    def __init__(self, app: App, verifier: TxnVerifier, *, scopes: Iterable[str] = ()) -> None:
        self.app, self.verifier, self.scopes = app, verifier, tuple(scopes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        token = next((value.decode("latin-1") for name, value in scope["headers"] if name.lower() == b"txn-token"), "")
        try:
            if not token:
                raise InvalidToken("no Transaction Token (txn-token)")
            claims = await asyncio.to_thread(self.verifier.verify, token, scopes=self.scopes)
        except InvalidToken as refused:
            return await refuse(send, refused)
        scope.setdefault("state", {})["tokend_txn_claims"] = claims
        reset = _current.set(TxnToken(token, claims))
        try:
            return await self.app(scope, receive, send)
        finally:
            _current.reset(reset)
