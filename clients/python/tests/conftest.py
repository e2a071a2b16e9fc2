"""A live tokend for the tests: the real binary on a scratch SQLite database,
with two clients made by its CLI."""

import base64
import json
import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import grpc
import pytest

REPO = Path(__file__).resolve().parents[3]


def tokend_binary() -> str:
    """``TOKEND_BIN``, or the debug build in ``CARGO_TARGET_DIR`` or the repository's target/."""
    if "TOKEND_BIN" in os.environ:
        return os.environ["TOKEND_BIN"]
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = target / "debug" / "tokend"
    if not binary.exists():
        pytest.exit(f"no tokend at {binary}: run `cargo build` or set TOKEND_BIN", returncode=2)
    return str(binary)


@dataclass
class Tokend:
    address: str
    channel: grpc.Channel
    #: "orders-worker": may ask for orders.read orders.write (default orders.read), audience "orders".
    worker_secret: str
    #: "admin": holds tokend.admin.
    admin_secret: str
    #: Runs a CLI command on the server's database and returns what it printed.
    cli: "Callable[..., str]"


@pytest.fixture(scope="session")
def tokend(tmp_path_factory):
    binary = tokend_binary()
    database = tmp_path_factory.mktemp("tokend") / "tokend.db"
    env = {**os.environ, "TOKEND_DATABASE_URL": f"sqlite://{database}", "RUST_LOG": "warn"}

    def cli(*args: str) -> str:
        return subprocess.run([binary, *args], env=env, check=True, capture_output=True, text=True).stdout

    def create(*args: str) -> str:
        return json.loads(cli("client", "create", *args, "--json"))["client_secret"]

    worker = create("--id", "orders-worker", "--scopes", "orders.read orders.write", "--default-scopes", "orders.read", "--audience", "orders")
    admin = create("--id", "admin", "--scopes", "tokend.admin")
    server = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        address = server.stdout.readline().split()[-1]
        channel = grpc.insecure_channel(address)
        grpc.channel_ready_future(channel).result(timeout=10)
        yield Tokend(address, channel, worker, admin, cli)
        channel.close()
    finally:
        server.terminate()
        server.wait(timeout=15)


class CallCounter(grpc.UnaryUnaryClientInterceptor):
    """Counts the calls that go out through a channel."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def intercept_unary_unary(self, continuation, client_call_details, request):
        with self._lock:
            self.calls += 1
        return continuation(client_call_details, request)


def counted(channel: grpc.Channel) -> "tuple[grpc.Channel, CallCounter]":
    counter = CallCounter()
    return grpc.intercept_channel(channel, counter), counter


def claims(token: str) -> dict:
    """The payload of a JWT, unverified."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
