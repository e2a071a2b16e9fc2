"""Transaction Tokens over gRPC (``grpc``): ``TxnEdge`` asks tokend for one
at the edge, ``TxnTokenInterceptor`` verifies the ``txn-token`` metadata of
every call and makes it current while its handler runs, and
``with_txn_token`` sends the current one on with every call through a
channel. Refusals are UNAUTHENTICATED, PERMISSION_DENIED or UNAVAILABLE."""

from __future__ import annotations

import contextvars
import json
from typing import Any, Callable, Dict, Iterable, Optional

import grpc

from tokend.v1 import token_service_pb2, token_service_pb2_grpc
from tokend_client.bearer import _ClientCallDetails, _UnaryStream, _UnaryUnary
from tokend_client.errors import TokenError
from tokend_client.grpc_server import _code, _handler, _ServerInterceptor
from tokend_client.refusal import InvalidToken
from tokend_client.txn import TXN_TOKEN_HEADER, TXN_TOKEN_TYPE, TxnToken, TxnVerifier, _current

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


class TxnEdge:
    """At the edge of the trust domain: turns a caller's access token into a
    Transaction Token, as a client registered as a ``txn_token_requester``."""

    def __init__(self, channel: grpc.Channel, client_id: str, client_secret: str, trust_domain: str) -> None:
        self._stub = token_service_pb2_grpc.TokenServiceStub(channel)  # type: ignore[no-untyped-call]
        self._client_id, self._client_secret, self._trust_domain = client_id, client_secret, trust_domain

    def exchange(self, access_token: str, scope: str, *, request_context: Optional[Dict[str, Any]] = None,
                 request_details: Optional[Dict[str, Any]] = None, timeout: float = 10) -> str:
        """The Txn-Token for one request. Raises ``TokenError``."""
        request = token_service_pb2.ExchangeTokenRequest(
            client_id=self._client_id, client_secret=self._client_secret,
            subject_token=access_token, subject_token_type=ACCESS_TOKEN_TYPE, requested_token_type=TXN_TOKEN_TYPE,
            audience=[self._trust_domain], scope=scope,
            request_context=json.dumps(request_context) if request_context else "",
            request_details=json.dumps(request_details) if request_details else "",
        )
        try:
            answer: token_service_pb2.ExchangeTokenResponse = self._stub.ExchangeToken(request, timeout=timeout)
        except grpc.RpcError as error:
            raise TokenError.from_rpc_error(error) from None
        return answer.access_token


class TxnTokenInterceptor(_ServerInterceptor):
    """For a ``grpc.server``: every call needs a Transaction Token of the
    verifier's trust domain holding ``scopes``; its handler finds it in
    ``current_txn_token()``, and calls it makes through ``with_txn_token``
    channels carry it on."""

    def __init__(self, verifier: TxnVerifier, *, scopes: Iterable[str] = ()) -> None:
        self._verifier, self._scopes = verifier, tuple(scopes)

    def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails], Optional[grpc.RpcMethodHandler[Any, Any]]],
                          handler_call_details: grpc.HandlerCallDetails) -> Optional[grpc.RpcMethodHandler[Any, Any]]:
        handler = continuation(handler_call_details)
        if handler is None:
            return None

        def wrap(behaviour: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
            def checked(request: Any, context: Any) -> Any:
                metadata = tuple(context.invocation_metadata() or ())
                token = next((str(value) for key, value in metadata if key == TXN_TOKEN_HEADER), "")
                try:
                    if not token:
                        raise InvalidToken("no Transaction Token (txn-token)")
                    claims = self._verifier.verify(token, scopes=self._scopes)
                except InvalidToken as refused:
                    context.abort(_code(refused), refused.description)
                # The handler (and a stream it returns) runs with the token current.
                scoped = contextvars.copy_context()
                scoped.run(_current.set, TxnToken(token, claims))
                return scoped.run(behaviour, request, context)

            return checked

        return _handler(handler, wrap)


class _PropagateInterceptor(_UnaryUnary, _UnaryStream):
    def _carrying(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        current = _current.get()
        if current is None:
            return details
        return _ClientCallDetails(details, (*(details.metadata or ()), (TXN_TOKEN_HEADER, current.token)))

    def intercept_unary_unary(self, continuation: Callable[[grpc.ClientCallDetails, Any], Any],
                              client_call_details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._carrying(client_call_details), request)

    def intercept_unary_stream(self, continuation: Callable[[grpc.ClientCallDetails, Any], Any],
                               client_call_details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._carrying(client_call_details), request)


def with_txn_token(channel: grpc.Channel) -> grpc.Channel:
    """``channel`` sending the current Transaction Token, if any, with every unary call."""
    return grpc.intercept_channel(channel, _PropagateInterceptor())
