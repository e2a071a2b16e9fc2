"""How a ``TokenSource`` proves who its client is: a secret, a private key
that signs a fresh ``private_key_jwt`` assertion (RFC 7523) for every
request, or a platform's token read from a file for every request (a
Kubernetes projected service-account token, which the kubelet rewrites)."""

import base64
import os
import time
from typing import Callable

from tokend.v1 import token_service_pb2

#: ``client_assertion_type`` of a JWT (RFC 7523 §2.2).
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: How long a signed assertion lives: long enough to cross the network.
ASSERTION_LIFETIME_SECONDS = 60

#: Fills a request's credentials; raises ``OSError`` or ``ValueError`` when it cannot.
Fill = Callable[[token_service_pb2.IssueTokenRequest], None]


def secret(client_secret: str) -> Fill:
    def fill(request: token_service_pb2.IssueTokenRequest) -> None:
        request.client_secret = client_secret

    return fill


def private_key(client_id: str, key_pem: str, kid: str, algorithm: str, audience: str) -> Fill:
    """Signs with PyJWT (the ``keys`` extra: ``pip install tokend-client[keys]``)."""
    import jwt  # Only clients that sign need PyJWT and cryptography.

    key = jwt.algorithms.get_default_algorithms()[algorithm].prepare_key(key_pem)

    def fill(request: token_service_pb2.IssueTokenRequest) -> None:
        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECONDS,
            "jti": base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode(),
        }
        request.client_assertion_type = JWT_BEARER
        request.client_assertion = jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})

    return fill


def assertion_file(path: str) -> Fill:
    def fill(request: token_service_pb2.IssueTokenRequest) -> None:
        with open(path, encoding="utf-8") as file:
            request.client_assertion = file.read().strip()
        request.client_assertion_type = JWT_BEARER

    return fill
