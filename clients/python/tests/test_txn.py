"""Transaction Tokens in Python against a live tokend: the edge exchanges an
access token for one, two gRPC services verify it in turn (the first
passing it on through a propagating channel), an ASGI app verifies it too,
and a missing, mistyped, narrow or foreign one is refused."""

import json
from concurrent import futures

import grpc
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tokend_client import InvalidToken, TokenSource, TxnVerifier, current_txn_token, txn_headers
from tokend_client.txn_asgi import TxnTokenMiddleware
from tokend_client.txn_grpc import TxnEdge, TxnTokenInterceptor, with_txn_token

METHOD = "/demo.Hop/Visit"


@pytest.fixture(scope="module")
def edge(tokend) -> TxnEdge:
    secret = json.loads(tokend.cli("client", "create", "--id", "py-edge", "--txn-token-requester", "--json"))["client_secret"]
    return TxnEdge(tokend.channel, "py-edge", secret, f"http://{tokend.address}")


@pytest.fixture(scope="module")
def access_token(tokend) -> str:
    return TokenSource(tokend.channel, "orders-worker", tokend.worker_secret).token("orders.read orders.write").access_token


def _serve(interceptor, behaviour):
    server = grpc.server(futures.ThreadPoolExecutor(4), interceptors=[interceptor])
    handler = grpc.unary_unary_rpc_method_handler(behaviour)
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("demo.Hop", {"Visit": handler})])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


def _visit(address: str, token=None) -> bytes:
    with grpc.insecure_channel(address) as channel:
        metadata = [("txn-token", token)] if token else []
        return with_txn_token(channel).unary_unary(METHOD)(b"", metadata=metadata, timeout=10)


def test_the_edge_token_passes_two_hops_unchanged_and_each_sees_one_transaction(tokend, edge, access_token):
    token = edge.exchange(access_token, "orders.read", request_context={"req_ip": "192.0.2.9"},
                          request_details={"action": "list"})
    verifier = TxnVerifier.discover(f"http://{tokend.address}", f"http://{tokend.address}")
    claims = verifier.verify(token, scopes=["orders.read"])
    assert (claims.sub, claims.req_wl, claims.rctx["req_ip"], claims.tctx["action"]) == ("orders-worker", "py-edge", "192.0.2.9", "list")

    def ledger(request, context):
        current = current_txn_token()
        return f"ledger:{current.claims.txn}:{current.claims.sub}".encode()

    last, last_address = _serve(TxnTokenInterceptor(verifier, scopes=["orders.read"]), ledger)

    def payments(request, context):
        # No token passed by hand: the propagating channel sends the current one.
        onward = _visit(last_address)
        return f"payments:{current_txn_token().claims.txn};".encode() + onward

    first, first_address = _serve(TxnTokenInterceptor(verifier), payments)
    try:
        answer = _visit(first_address, token).decode()
        assert answer == f"payments:{claims.txn};ledger:{claims.txn}:orders-worker"
        refusals = {None: (grpc.StatusCode.UNAUTHENTICATED, "no Transaction Token (txn-token)"),
                    access_token: (grpc.StatusCode.UNAUTHENTICATED, "not a Transaction Token (typ)")}
        for presented, (code, why) in refusals.items():
            with pytest.raises(grpc.RpcError) as refused:
                _visit(first_address, presented)
            assert (refused.value.code(), refused.value.details()) == (code, why)
        narrow = edge.exchange(access_token, "orders.write")
        with pytest.raises(grpc.RpcError) as refused:
            _visit(last_address, narrow)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        first.stop(None)
        last.stop(None)


def test_another_trust_domain_refuses_it_and_an_edge_that_is_no_requester_gets_none(tokend, edge, access_token):
    token = edge.exchange(access_token, "orders.read")
    foreign = TxnVerifier.discover(f"http://{tokend.address}", "https://another-domain.example")
    with pytest.raises(InvalidToken) as refused:
        foreign.verify(token)
    assert refused.value.description == "token is for another audience"
    stranger = TxnEdge(tokend.channel, "orders-worker", tokend.worker_secret, f"http://{tokend.address}")
    with pytest.raises(Exception) as denied:
        stranger.exchange(access_token, "orders.read")
    assert getattr(denied.value, "oauth_error", None) == "unauthorized_client"


def test_an_asgi_app_verifies_it_and_hands_it_on(tokend, edge, access_token):
    verifier = TxnVerifier.discover(f"http://{tokend.address}", f"http://{tokend.address}")
    app = FastAPI()

    @app.get("/who")
    async def who() -> dict:
        return {"sub": current_txn_token().claims.sub, "onward": txn_headers()}

    client = TestClient(TxnTokenMiddleware(app, verifier, scopes=["orders.read"]))
    token = edge.exchange(access_token, "orders.read")
    answer = client.get("/who", headers={"Txn-Token": token})
    assert answer.status_code == 200
    assert answer.json() == {"sub": "orders-worker", "onward": {"txn-token": token}}
    missing = client.get("/who")
    assert (missing.status_code, missing.json()["error"]) == (401, "invalid_token")
    assert txn_headers() == {}, "nothing current outside a request"
