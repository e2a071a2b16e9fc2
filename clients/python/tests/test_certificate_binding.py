"""A certificate-bound token (RFC 8705) and the Python Verifier: a tokend
serving mutual TLS (certificates from clients/tls/make-test-certificates.sh)
issues a workload a token bound to its client certificate; the verifier,
which finds the keys over HTTPS with ``ca_file``, accepts the token only with
that certificate."""

import os
import ssl
import subprocess

import grpc
import pytest

from conftest import REPO, claims, tokend_binary
from tokend.v1 import token_service_pb2, token_service_pb2_grpc
from tokend_client import InvalidToken, Verifier

SPIFFE_ID = "spiffe://example.org/ns/orders/sa/worker"


@pytest.fixture(scope="module")
def mtls(tmp_path_factory):
    pki = tmp_path_factory.mktemp("pki")
    subprocess.run([str(REPO / "clients" / "tls" / "make-test-certificates.sh"), str(pki)], check=True)
    binary = tokend_binary()
    env = {**os.environ, "TOKEND_DATABASE_URL": f"sqlite://{pki / 'tokend.db'}", "RUST_LOG": "warn"}
    subprocess.run([binary, "client", "create", "--id", "mesh-worker", "--scopes", "orders.read", "--default-scopes",
                    "orders.read", "--audience", "orders", "--auth-method", "tls_client_auth", "--tls-san-uri", SPIFFE_ID,
                    "--bound-tokens"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--tls-cert", str(pki / "server.pem"),
                               "--tls-key", str(pki / "server.key"), "--tls-client-ca", str(pki / "ca.pem")],
                              env=env, stdout=subprocess.PIPE, text=True)
    try:
        port = server.stdout.readline().split()[-1].rsplit(":", 1)[1]
        yield pki, port
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_a_bound_token_passes_only_with_its_certificate(mtls):
    pki, port = mtls
    read = lambda name: (pki / name).read_bytes()  # noqa: E731
    credentials = grpc.ssl_channel_credentials(read("ca.pem"), read("workload.key"), read("workload.pem"))
    with grpc.secure_channel(f"localhost:{port}", credentials) as channel:
        request = token_service_pb2.IssueTokenRequest(grant_type="client_credentials", client_id="mesh-worker")
        token = token_service_pb2_grpc.TokenServiceStub(channel).IssueToken(request, timeout=10).access_token
    assert "x5t#S256" in claims(token)["cnf"]

    # The issuer is the address tokend serves on; its certificate names 127.0.0.1 too.
    verifier = Verifier.discover(f"https://127.0.0.1:{port}", "orders", ca_file=str(pki / "ca.pem"))
    workload = ssl.PEM_cert_to_DER_cert(read("workload.pem").decode())
    assert verifier.verify(token, certificate_der=workload).client_id == "mesh-worker"
    refusals = {
        None: "token is bound to a client certificate and none was presented",
        ssl.PEM_cert_to_DER_cert(read("server.pem").decode()): "token is bound to another client certificate",
    }
    for presented, why in refusals.items():
        with pytest.raises(InvalidToken) as refused:
            verifier.verify(token, certificate_der=presented)
        assert (refused.value.error, refused.value.description) == ("invalid_token", why)
