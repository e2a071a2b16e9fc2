"""One internal service of the example call chain of Transaction Tokens, in
Python: a ``chain.v1.Hop`` gRPC service behind ``TxnTokenInterceptor`` that
says what it saw and visits the next service through a ``with_txn_token``
channel, which sends the same token on.
    TOKEND_ISSUER=http://127.0.0.1:50051 HOP_NAME=payments HOP_LISTEN=127.0.0.1:50062 \\
      HOP_NEXT=127.0.0.1:50063 python txn_hop.py
"""

import os
from concurrent import futures

import grpc
from orders_stubs import chain_pb2, chain_pb2_grpc

from tokend_client import TxnVerifier, current_txn_token
from tokend_client.txn_grpc import TxnTokenInterceptor, with_txn_token


class Hop(chain_pb2_grpc.HopServicer):
    def __init__(self, name: str, next_hop) -> None:
        self._name, self._next = name, next_hop

    def Visit(self, request, context):
        claims = current_txn_token().claims
        seen = [chain_pb2.Seen(service=self._name, txn=claims.txn, sub=claims.sub, req_wl=claims.req_wl, scope=claims.scope)]
        if self._next is not None:
            seen.extend(self._next.Visit(request, timeout=10).seen)
        return chain_pb2.VisitReply(seen=seen)


def main() -> None:
    issuer = os.environ.get("TOKEND_ISSUER", "http://127.0.0.1:50051")
    verifier = TxnVerifier.discover(issuer, os.environ.get("TXN_TRUST_DOMAIN", issuer))
    next_address = os.environ.get("HOP_NEXT", "").removeprefix("http://")
    next_hop = chain_pb2_grpc.HopStub(with_txn_token(grpc.insecure_channel(next_address))) if next_address else None
    server = grpc.server(futures.ThreadPoolExecutor(8), interceptors=[TxnTokenInterceptor(verifier)])
    chain_pb2_grpc.add_HopServicer_to_server(Hop(os.environ.get("HOP_NAME", "hop"), next_hop), server)
    port = server.add_insecure_port(os.environ.get("HOP_LISTEN", "127.0.0.1:50062"))
    server.start()
    print(f"hop listening on 127.0.0.1:{port}", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
