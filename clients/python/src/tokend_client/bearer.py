"""A channel wrapper that puts a TokenSource token on every call."""

from typing import Iterable, NamedTuple, Optional, Sequence, Tuple

import grpc

from tokend_client.source import TokenSource


class _CallDetails(NamedTuple):
    method: str
    timeout: Optional[float]
    metadata: Optional[Sequence[Tuple[str, str]]]
    credentials: Optional[grpc.CallCredentials]
    wait_for_ready: Optional[bool]
    compression: Optional[grpc.Compression]


class _ClientCallDetails(_CallDetails, grpc.ClientCallDetails):
    pass


class _BearerInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    def __init__(self, source: TokenSource, scope: str, audience: Tuple[str, ...]) -> None:
        self._source = source
        self._scope = scope
        self._audience = audience

    def _authorised(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        token = self._source.token(self._scope, self._audience)
        metadata = [*(details.metadata or ()), ("authorization", f"Bearer {token.access_token}")]
        return _ClientCallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._authorised(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._authorised(client_call_details), request)


def with_bearer(
    channel: grpc.Channel, source: TokenSource, scope: str = "", audience: Iterable[str] = ()
) -> grpc.Channel:
    """``channel`` with ``authorization: Bearer …`` from ``source`` on every
    unary call. When no token can be had, the call raises ``TokenError``
    without being sent."""
    return grpc.intercept_channel(channel, _BearerInterceptor(source, scope, tuple(audience)))
