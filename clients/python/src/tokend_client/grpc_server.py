"""gRPC server interceptors (``grpc`` and ``grpc.aio``) that let a call
through only with a valid token for it: ``authorization: Bearer …``, or
``DPoP …`` with its proof in ``dpop`` metadata; a certificate-bound token only
over a TLS connection with that client certificate. Refusals are
UNAUTHENTICATED (``invalid_token``, ``invalid_dpop_proof``), PERMISSION_DENIED
(``insufficient_scope``) or UNAVAILABLE. The call's claims are in
``current_claims()`` while its handler runs."""

from __future__ import annotations

import asyncio
import inspect
import ssl
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Iterator, Mapping, Optional, Sequence, Tuple

import grpc

from tokend_client.async_verifier import AsyncVerifier
from tokend_client.claims import Claims
from tokend_client.presented import presented, verify_presented
from tokend_client.refusal import InvalidToken
from tokend_client.verifier import Verifier

# The interceptor bases are generic only to the type checker (grpc-stubs).
if TYPE_CHECKING:
    _ServerInterceptor = grpc.ServerInterceptor[Any, Any]
    _AioServerInterceptor = grpc.aio.ServerInterceptor[Any, Any]
else:
    _ServerInterceptor = grpc.ServerInterceptor
    _AioServerInterceptor = grpc.aio.ServerInterceptor

_claims: ContextVar[Optional[Claims]] = ContextVar("tokend_claims", default=None)

_CODES = {
    "invalid_token": grpc.StatusCode.UNAUTHENTICATED,
    "invalid_dpop_proof": grpc.StatusCode.UNAUTHENTICATED,
    "insufficient_scope": grpc.StatusCode.PERMISSION_DENIED,
}


def current_claims() -> Claims:
    """The claims of the call being handled; ``LookupError`` outside one."""
    claims = _claims.get()
    if claims is None:
        raise LookupError("not inside a call the interceptor let through")
    return claims


class _Rules:
    """Which scopes a method needs, and where calls are sent (for DPoP's ``htu``)."""

    def __init__(self, scopes: Sequence[str], method_scopes: Mapping[str, Sequence[str]], origin: Optional[str]) -> None:
        self.scopes, self.method_scopes = tuple(scopes), dict(method_scopes)
        self.origin = origin.rstrip("/") if origin else None

    def inspect(self, method: str, context: Any) -> Callable[[Verifier], Claims]:
        """Reads what the call presents (on the thread that serves it) and
        returns the check of it, which may run anywhere."""
        metadata = tuple(context.invocation_metadata() or ())
        authorization = next((str(value) for key, value in metadata if key == "authorization"), None)
        proofs = [str(value) for key, value in metadata if key == "dpop"]
        pems = (context.auth_context() or {}).get("x509_pem_cert") or []
        certificate = ssl.PEM_cert_to_DER_cert(pems[0].decode()) if pems else None
        url = f"{self.origin}{method}" if self.origin else ""
        scopes = self.method_scopes.get(method, self.scopes)

        def check(verifier: Verifier) -> Claims:
            return verify_presented(verifier, presented(authorization, proofs), scopes, "POST", url, certificate)

        return check


def _code(refused: InvalidToken) -> grpc.StatusCode:
    return _CODES.get(refused.error, grpc.StatusCode.UNAVAILABLE)


def _handler(handler: grpc.RpcMethodHandler[Any, Any], wrap: Callable[[Any], Any]) -> grpc.RpcMethodHandler[Any, Any]:
    """``handler`` with its behaviour wrapped, whatever its kind."""
    kinds = (
        ("unary_unary", grpc.unary_unary_rpc_method_handler),
        ("unary_stream", grpc.unary_stream_rpc_method_handler),
        ("stream_unary", grpc.stream_unary_rpc_method_handler),
        ("stream_stream", grpc.stream_stream_rpc_method_handler),
    )
    for kind, make in kinds:
        behaviour = getattr(handler, kind)
        if behaviour is not None:
            return make(wrap(behaviour), handler.request_deserializer, handler.response_serializer)
    return handler


class VerifyInterceptor(_ServerInterceptor):
    """For a ``grpc.server``: every call needs a token with ``scopes`` (or
    ``method_scopes[full method name]``). ``origin`` is the service's URL
    (``https://orders.internal:443``), which DPoP proofs name with the method's path."""

    def __init__(self, verifier: Verifier, *, scopes: Sequence[str] = (),
                 method_scopes: Mapping[str, Sequence[str]] = {}, origin: Optional[str] = None) -> None:
        self._verifier, self._rules = verifier, _Rules(scopes, method_scopes, origin)

    def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails], Optional[grpc.RpcMethodHandler[Any, Any]]],
                          handler_call_details: grpc.HandlerCallDetails) -> Optional[grpc.RpcMethodHandler[Any, Any]]:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        streaming = handler.response_streaming

        def wrap(behaviour: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
            def checked(request: Any, context: Any) -> Any:
                try:
                    claims = self._rules.inspect(method, context)(self._verifier)
                except InvalidToken as refused:
                    context.abort(_code(refused), refused.description)
                if streaming:
                    return _streamed(behaviour, request, context, claims)
                token = _claims.set(claims)
                try:
                    return behaviour(request, context)
                finally:
                    _claims.reset(token)

            return checked

        return _handler(handler, wrap)


def _streamed(behaviour: Callable[[Any, Any], Iterator[Any]], request: Any, context: Any, claims: Claims) -> Iterator[Any]:
    token = _claims.set(claims)
    try:
        yield from behaviour(request, context)
    finally:
        _claims.reset(token)


class AsyncVerifyInterceptor(_AioServerInterceptor):
    """``VerifyInterceptor`` for a ``grpc.aio.server``; the checks run off the event loop."""

    def __init__(self, verifier: AsyncVerifier, *, scopes: Sequence[str] = (),
                 method_scopes: Mapping[str, Sequence[str]] = {}, origin: Optional[str] = None) -> None:
        self._verifier, self._rules = verifier, _Rules(scopes, method_scopes, origin)

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method

        async def admitted(context: Any) -> Claims:
            try:
                return await asyncio.to_thread(self._rules.inspect(method, context), self._verifier.sync)
            except InvalidToken as refused:
                await context.abort(_code(refused), refused.description)
                raise  # abort raises; this line is for the type checker

        def wrap(behaviour: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
            if inspect.isasyncgenfunction(behaviour):
                async def streamed(request: Any, context: Any) -> AsyncIterator[Any]:
                    token = _claims.set(await admitted(context))
                    try:
                        async for response in behaviour(request, context):
                            yield response
                    finally:
                        _claims.reset(token)

                return streamed

            async def checked(request: Any, context: Any) -> Any:
                token = _claims.set(await admitted(context))
                try:
                    return await behaviour(request, context)
                finally:
                    _claims.reset(token)

            return checked

        return _handler(handler, wrap)


__all__: Tuple[str, ...] = ("AsyncVerifyInterceptor", "VerifyInterceptor", "current_claims")
