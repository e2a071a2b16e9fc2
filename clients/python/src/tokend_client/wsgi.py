"""WSGI (Flask, Django): a middleware that lets a request through only with
a valid token. Refusals are 401, 403 or 503 with a ``WWW-Authenticate``
challenge and the OAuth error as JSON. The claims are at
``environ["tokend.claims"]`` (in Flask, ``request.environ["tokend.claims"]``)."""

import ssl
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from tokend_client.asgi import refusal_body
from tokend_client.presented import presented, verify_presented
from tokend_client.refusal import InvalidToken
from tokend_client.verifier import Verifier

StartResponse = Callable[[str, List[Tuple[str, str]]], Any]
WsgiApp = Callable[[Dict[str, Any], StartResponse], Iterable[bytes]]

_REASONS = {401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable"}


class VerifyWSGIMiddleware:
    """Every request needs a token with ``scopes``. ``origin`` is the API's
    public URL, which DPoP proofs name; without it, the request's scheme and ``Host``."""

    def __init__(self, app: WsgiApp, verifier: Verifier, *, scopes: Sequence[str] = (), origin: Optional[str] = None) -> None:
        self.app, self.verifier, self.scopes, self.origin = app, verifier, tuple(scopes), origin

    def __call__(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        base = self.origin.rstrip("/") if self.origin else f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        url = f"{base}{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"
        proof = environ.get("HTTP_DPOP")
        pem = environ.get("SSL_CLIENT_CERT")
        try:
            call = presented(environ.get("HTTP_AUTHORIZATION"), [proof] if proof else [])
            certificate = ssl.PEM_cert_to_DER_cert(pem) if pem else None
            environ["tokend.claims"] = verify_presented(
                self.verifier, call, self.scopes, environ.get("REQUEST_METHOD", "GET"), url, certificate
            )
        except InvalidToken as refused:
            status, headers, body = refusal_body(refused)
            start_response(f"{status} {_REASONS.get(status, 'Error')}", list(headers.items()))
            return [body]
        return self.app(environ, start_response)
