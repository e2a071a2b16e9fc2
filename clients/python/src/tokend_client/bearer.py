"""A channel wrapper that puts a TokenSource token on every call."""

from typing import TYPE_CHECKING, Any, Callable, Iterable, Tuple, Union

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
    def __init__(self, source: TokenSource, scope: str, audience: Tuple[str, ...]) -> None:
        self._source = source
        self._scope = scope
        self._audience = audience

    def _authorised(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        token = self._source.token(self._scope, self._audience)
        metadata = (*(details.metadata or ()), ("authorization", f"Bearer {token.access_token}"))
        return _ClientCallDetails(details, metadata)

    def intercept_unary_unary(
        self, continuation: Callable[[grpc.ClientCallDetails, Any], Any], client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._authorised(client_call_details), request)

    def intercept_unary_stream(
        self, continuation: Callable[[grpc.ClientCallDetails, Any], Any], client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._authorised(client_call_details), request)


def with_bearer(
    channel: grpc.Channel, source: TokenSource, scope: str = "", audience: Iterable[str] = ()
) -> grpc.Channel:
    """``channel`` with ``authorization: Bearer …`` from ``source`` on every
    unary call. When no token can be had, the call raises ``TokenError``
    without being sent."""
    return grpc.intercept_channel(channel, _BearerInterceptor(source, scope, tuple(audience)))
