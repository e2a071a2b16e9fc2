"""A channel wrapper that puts a TokenSource token on every call."""

from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Tuple, Union

import grpc

from tokend_client.source import TokenSource


class _ClientCallDetails(grpc.ClientCallDetails):
    """A call's details with other metadata (grpc leaves building them to us)."""

    def __init__(self, details: grpc.ClientCallDetails, metadata: Tuple[Tuple[str, Union[str, bytes]], ...]) -> None:
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = details.wait_for_ready
        self.compression = details.compression


# The interceptor bases are generic only to the type checker (grpc-stubs).
if TYPE_CHECKING:
    _UnaryUnary = grpc.UnaryUnaryClientInterceptor[Any, Any]
    _UnaryStream = grpc.UnaryStreamClientInterceptor[Any, Any]
else:
    _UnaryUnary = grpc.UnaryUnaryClientInterceptor
    _UnaryStream = grpc.UnaryStreamClientInterceptor


class _BearerInterceptor(_UnaryUnary, _UnaryStream):
    def __init__(self, source: TokenSource, scope: str, audience: Tuple[str, ...], origin: Optional[str]) -> None:
        self._source = source
        self._scope = scope
        self._audience = audience
        self._origin = (origin or "").rstrip("/")

    def _authorised(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        token = self._source.token(self._scope, self._audience)
        key = self._source.dpop_key
        if key is None or token.token_type.lower() != "dpop":
            added: Tuple[Tuple[str, str], ...] = (("authorization", f"Bearer {token.access_token}"),)
        else:
            method = details.method.decode() if isinstance(details.method, bytes) else details.method
            proof = key.proof("POST", f"{self._origin}{method}", access_token=token.access_token)
            added = (("authorization", f"DPoP {token.access_token}"), ("dpop", proof))
        return _ClientCallDetails(details, (*(details.metadata or ()), *added))

    def intercept_unary_unary(
        self, continuation: Callable[[grpc.ClientCallDetails, Any], Any], client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._authorised(client_call_details), request)

    def intercept_unary_stream(
        self, continuation: Callable[[grpc.ClientCallDetails, Any], Any], client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._authorised(client_call_details), request)


def with_bearer(
    channel: grpc.Channel, source: TokenSource, scope: str = "", audience: Iterable[str] = (), *,
    origin: Optional[str] = None,
) -> grpc.Channel:
    """``channel`` with ``authorization: Bearer …`` from ``source`` on every
    unary call; for a source with a DPoP key, ``authorization: DPoP …`` and a
    fresh proof in ``dpop`` naming ``origin`` (the called service's URL,
    ``http://orders:50051``) and the method's path. When no token can be had,
    the call raises ``TokenError`` without being sent."""
    return grpc.intercept_channel(channel, _BearerInterceptor(source, scope, tuple(audience), origin))
