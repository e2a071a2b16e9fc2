"""ASGI (Starlette, FastAPI): a middleware that lets a request through only
with a valid token, and a FastAPI dependency for routes that need scopes.
Refusals are 401, 403 or 503 with a ``WWW-Authenticate`` challenge and the
OAuth error as JSON. The claims are at ``request.state.tokend_claims``."""

import asyncio
import json
import ssl
from typing import Any, Awaitable, Callable, Dict, List, MutableMapping, Optional, Sequence, Tuple

from tokend_client.async_verifier import AsyncVerifier
from tokend_client.claims import Claims
from tokend_client.presented import presented, verify_presented
from tokend_client.refusal import InvalidToken

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


async def verify_request(verifier: AsyncVerifier, scope: Scope, scopes: Sequence[str], origin: Optional[str]) -> Claims:
    """The claims of an HTTP request's token, or ``InvalidToken``."""
    headers: List[Tuple[str, str]] = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
    authorization = next((value for name, value in headers if name == "authorization"), None)
    proofs = [value for name, value in headers if name == "dpop"]
    host = next((value for name, value in headers if name == "host"), "")
    url = f"{origin.rstrip('/') if origin else scope.get('scheme', 'http') + '://' + host}{scope.get('root_path', '')}{scope['path']}"
    chain = scope.get("extensions", {}).get("tls", {}).get("client_cert_chain") or []
    certificate = ssl.PEM_cert_to_DER_cert(chain[0]) if chain else None
    call = presented(authorization, proofs)
    return await asyncio.to_thread(verify_presented, verifier.sync, call, scopes, scope["method"], url, certificate)


def refusal_body(refused: InvalidToken) -> Tuple[int, Dict[str, str], bytes]:
    """The status, headers and JSON body that tell a caller why."""
    headers = {"content-type": "application/json"}
    if refused.www_authenticate:
        headers["www-authenticate"] = refused.www_authenticate
    body = json.dumps({"error": refused.error, "error_description": refused.description}).encode()
    return refused.http_status, headers, body


async def refuse(send: Send, refused: InvalidToken) -> None:
    """Answers an ASGI request with the refusal."""
    status, headers, body = refusal_body(refused)
    raw = [(name.encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class VerifyMiddleware:
    """Every HTTP request needs a token with ``scopes``. ``origin`` is the
    API's public URL, which DPoP proofs name; without it, the request's ``Host``."""

    def __init__(self, app: App, verifier: AsyncVerifier, *, scopes: Sequence[str] = (), origin: Optional[str] = None) -> None:
        self.app, self.verifier, self.scopes, self.origin = app, verifier, tuple(scopes), origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            claims = await verify_request(self.verifier, scope, self.scopes, self.origin)
        except InvalidToken as refused:
            return await refuse(send, refused)
        scope.setdefault("state", {})["tokend_claims"] = claims
        return await self.app(scope, receive, send)


def requires(verifier: AsyncVerifier, *scopes: str, origin: Optional[str] = None) -> Callable[..., Awaitable[Claims]]:
    """A FastAPI dependency: ``claims: Claims = Depends(requires(verifier, "orders.write"))``."""
    from fastapi import HTTPException, Request

    async def dependency(request: Request) -> Claims:
        try:
            return await verify_request(verifier, request.scope, scopes, origin)
        except InvalidToken as refused:
            status, headers, body = refusal_body(refused)
            raise HTTPException(status, json.loads(body), headers={k: v for k, v in headers.items() if k != "content-type"}) from refused

    return dependency
