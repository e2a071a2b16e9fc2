"""The interceptors and middleware against a live tokend: a gRPC server
(``grpc`` and ``grpc.aio``), a FastAPI app (middleware and dependency) and a
Flask app each let a call through with a valid token, its claims at hand, and
refuse one without a token, without the scope, or revoked, with the right
gRPC status or HTTP status and challenge."""

import asyncio
import base64
import json
import urllib.request
from concurrent import futures

import grpc
import pytest

from tokend_client import AsyncVerifier, Verifier
from tokend_client.grpc_server import AsyncVerifyInterceptor, VerifyInterceptor, current_claims

METHOD = "/demo.Orders/Get"


def _token(tokend, scope: str = "") -> str:
    basic = base64.b64encode(f"orders-worker:{tokend.worker_secret}".encode()).decode()
    form = f"grant_type=client_credentials&scope={scope}".encode()
    request = urllib.request.Request(f"http://{tokend.address}/oauth/v2/token", data=form, headers={
        "Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["access_token"]


def _revoked(tokend) -> str:
    token = _token(tokend)
    basic = base64.b64encode(f"orders-worker:{tokend.worker_secret}".encode()).decode()
    request = urllib.request.Request(f"http://{tokend.address}/oauth/v2/revoke", data=f"token={token}".encode(), headers={
        "Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})
    urllib.request.urlopen(request, timeout=10).read()
    return token


@pytest.fixture
def revoked(tokend) -> str:
    """A token revoked before the test's verifier is made, so the first list it fetches has its bit."""
    return _revoked(tokend)


@pytest.fixture
def verifier(tokend, revoked) -> Verifier:
    return Verifier.discover(f"http://{tokend.address}", "orders")


def _handlers(behaviour):
    return grpc.method_handlers_generic_handler("demo.Orders", {"Get": grpc.unary_unary_rpc_method_handler(behaviour)})


def _call(port: int, token=None):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        metadata = [("authorization", f"Bearer {token}")] if token else []
        return channel.unary_unary(METHOD)(b"", metadata=metadata, timeout=10)


def test_the_grpc_interceptor_admits_valid_tokens_only(tokend, revoked, verifier):
    server = grpc.server(futures.ThreadPoolExecutor(4), interceptors=[
        VerifyInterceptor(verifier, scopes=["orders.read"], method_scopes={METHOD: ["orders.read"]})])
    server.add_generic_rpc_handlers([_handlers(lambda request, context: current_claims().sub.encode())])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        assert _call(port, _token(tokend)) == b"orders-worker", "the handler reads the call's claims"
        refusals = {None: grpc.StatusCode.UNAUTHENTICATED, "garbage": grpc.StatusCode.UNAUTHENTICATED,
                    revoked: grpc.StatusCode.UNAUTHENTICATED}
        for token, code in refusals.items():
            with pytest.raises(grpc.RpcError) as refused:
                _call(port, token)
            assert refused.value.code() == code
        strict = grpc.server(futures.ThreadPoolExecutor(2), interceptors=[
            VerifyInterceptor(verifier, method_scopes={METHOD: ["orders.write"]})])
        strict.add_generic_rpc_handlers([_handlers(lambda request, context: b"")])
        strict_port = strict.add_insecure_port("127.0.0.1:0")
        strict.start()
        with pytest.raises(grpc.RpcError) as refused:
            _call(strict_port, _token(tokend))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        strict.stop(None)
    finally:
        server.stop(None)


def test_the_grpc_aio_interceptor_admits_valid_tokens_only(tokend, revoked, verifier):
    async def scenario():
        async def get(request, context):
            return current_claims().client_id.encode()

        server = grpc.aio.server(interceptors=[AsyncVerifyInterceptor(AsyncVerifier(verifier))])
        server.add_generic_rpc_handlers([_handlers(get)])
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                call = channel.unary_unary(METHOD)
                assert await call(b"", metadata=[("authorization", f"Bearer {_token(tokend)}")]) == b"orders-worker"
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await call(b"", metadata=[("authorization", f"Bearer {revoked}")])
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
                assert refused.value.details() == "token revoked"
        finally:
            await server.stop(None)

    asyncio.run(scenario())


def test_fastapi_middleware_and_dependency(tokend, revoked, verifier):
    from fastapi import Depends, FastAPI, Request
    from fastapi.testclient import TestClient

    from tokend_client.asgi import VerifyMiddleware, requires

    checked = AsyncVerifier(verifier)
    app = FastAPI()
    app.add_middleware(VerifyMiddleware, verifier=checked, scopes=["orders.read"])

    @app.get("/orders")
    async def orders(request: Request) -> dict:
        return {"sub": request.state.tokend_claims.sub}

    @app.post("/orders")
    async def place(claims=Depends(requires(checked, "orders.write"))) -> dict:
        return {"sub": claims.sub}

    client = TestClient(app)
    answer = client.get("/orders", headers={"Authorization": f"Bearer {_token(tokend)}"})
    assert (answer.status_code, answer.json()) == (200, {"sub": "orders-worker"})
    missing = client.get("/orders")
    assert (missing.status_code, missing.headers["www-authenticate"]) == (401, "Bearer")
    revoked = client.get("/orders", headers={"Authorization": f"Bearer {revoked}"})
    assert (revoked.status_code, revoked.json()["error"]) == (401, "invalid_token")
    assert 'error="invalid_token"' in revoked.headers["www-authenticate"]
    placed = client.post("/orders", headers={"Authorization": f"Bearer {_token(tokend)}"})
    assert placed.status_code == 403 and 'scope="orders.write"' in placed.headers["www-authenticate"]
    writer = _token(tokend, "orders.read%20orders.write")
    assert client.post("/orders", headers={"Authorization": f"Bearer {writer}"}).json() == {"sub": "orders-worker"}


def test_flask_through_the_wsgi_middleware(tokend, revoked, verifier):
    from flask import Flask, request

    from tokend_client.wsgi import VerifyWSGIMiddleware

    app = Flask(__name__)

    @app.get("/orders")
    def orders() -> dict:
        return {"sub": request.environ["tokend.claims"].sub}

    app.wsgi_app = VerifyWSGIMiddleware(app.wsgi_app, verifier, scopes=["orders.read"])  # type: ignore[method-assign]
    client = app.test_client()
    answer = client.get("/orders", headers={"Authorization": f"Bearer {_token(tokend)}"})
    assert (answer.status_code, answer.get_json()) == (200, {"sub": "orders-worker"})
    refused = client.get("/orders", headers={"Authorization": f"Bearer {revoked}"})
    assert (refused.status_code, refused.get_json()["error_description"]) == (401, "token revoked")
    assert client.get("/orders").status_code == 401
