"""Token sources with a DPoP key (RFC 9449) against a live tokend: the sync
and asyncio sources get tokens bound to the key, retry once with the nonce a
tokend serving ``--dpop-nonce`` asks for, and ``with_bearer`` presents them
with a fresh proof per call, which the serving interceptor accepts."""

import asyncio
import json
import os
import subprocess
from concurrent import futures

import grpc
import pytest

from conftest import claims, counted, tokend_binary
from tokend_client import AsyncTokenSource, DpopKey, TokenSource, Verifier, with_bearer
from tokend_client.grpc_server import VerifyInterceptor, current_claims

METHOD = "/demo.Orders/Get"


@pytest.fixture(scope="module")
def nonce_tokend(tmp_path_factory):
    """A tokend asking every DPoP proof for its nonce, with an orders-worker client: (address, secret)."""
    binary = tokend_binary()
    env = {**os.environ, "TOKEND_DATABASE_URL": f"sqlite://{tmp_path_factory.mktemp('nonce') / 'tokend.db'}",
           "RUST_LOG": "warn"}
    created = subprocess.run([binary, "client", "create", "--id", "orders-worker", "--scopes", "orders.read",
                              "--default-scopes", "orders.read", "--audience", "orders", "--json"],
                             env=env, check=True, capture_output=True, text=True)
    server = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--dpop-nonce"], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        yield server.stdout.readline().split()[-1], json.loads(created.stdout)["client_secret"]
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_a_source_with_a_dpop_key_gets_tokens_bound_to_it(tokend):
    key = DpopKey.generate()
    source = TokenSource(tokend.channel, "orders-worker", tokend.worker_secret, dpop=key,
                         origin=f"http://{tokend.address}")
    token = source.token("orders.read")
    assert token.token_type == "DPoP"
    assert claims(token.access_token)["cnf"] == {"jkt": key.thumbprint}
    assert repr(key) == f"DpopKey(thumbprint={key.thumbprint!r})"
    with pytest.raises(ValueError):
        TokenSource(tokend.channel, "orders-worker", tokend.worker_secret, dpop=key)


def test_the_async_source_binds_its_tokens_too(tokend):
    async def scenario() -> None:
        key = DpopKey.generate()
        async with grpc.aio.insecure_channel(tokend.address) as channel:
            source = AsyncTokenSource(channel, "orders-worker", tokend.worker_secret, dpop=key,
                                      origin=f"http://{tokend.address}")
            token = await source.token("orders.read")
            assert (token.token_type, claims(token.access_token)["cnf"]["jkt"]) == ("DPoP", key.thumbprint)

    asyncio.run(scenario())


def test_a_nonce_tokend_asks_for_is_sent_after_one_retry_and_kept(nonce_tokend):
    address, secret = nonce_tokend
    with grpc.insecure_channel(address) as plain:
        channel, counter = counted(plain)
        source = TokenSource(channel, "orders-worker", secret, dpop=DpopKey.generate(), origin=f"http://{address}")
        assert source.token("orders.read").token_type == "DPoP"
        assert counter.calls == 2, "refused once for want of a nonce, then issued"
        source.token("orders.read orders.read")  # another scope: a new fetch, with the nonce from the start
        assert counter.calls == 3


def test_with_bearer_presents_a_bound_token_with_a_proof_the_server_accepts(tokend):
    verifier = Verifier.discover(f"http://{tokend.address}", "orders")
    # The URL callers name the service by in their proofs; the interceptor must know it too.
    origin = "http://orders.test:50051"
    server = grpc.server(futures.ThreadPoolExecutor(2),
                         interceptors=[VerifyInterceptor(verifier, scopes=["orders.read"], origin=origin)])
    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: current_claims().cnf["jkt"].encode())
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("demo.Orders", {"Get": handler})])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        key = DpopKey.generate()
        source = TokenSource(tokend.channel, "orders-worker", tokend.worker_secret, dpop=key,
                             origin=f"http://{tokend.address}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            bound = with_bearer(channel, source, "orders.read", ["orders"], origin=origin)
            for _ in range(2):  # a fresh proof each call: a replayed one would be refused
                assert bound.unary_unary(METHOD)(b"", timeout=10) == key.thumbprint.encode()
            elsewhere = with_bearer(channel, source, "orders.read", ["orders"], origin="http://elsewhere:1")
            with pytest.raises(grpc.RpcError) as refused:
                elsewhere.unary_unary(METHOD)(b"", timeout=10)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "another URL" in refused.value.details()
    finally:
        server.stop(None)
