"""A stock reader of Token Status Lists, written from draft-ietf-oauth-status-list-20
alone (§4.1 the byte array, §5.1 the Status List Token, §8.3 validation), not
from tokend's code: it reads the draft's own examples, then tokend's lists,
and finds a revoked token INVALID and the others VALID."""

import base64
import json
import urllib.request
import zlib

import jwt

from conftest import claims

VALID, INVALID = 0, 1


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def read_status(lst: str, idx: int, bits: int) -> int:
    """§4.1: DEFLATE in ZLIB format, base64url; statuses packed from the least significant bit."""
    array = zlib.decompress(b64url_decode(lst))
    per_byte = 8 // bits
    if idx // per_byte >= len(array):
        raise IndexError("index out of bounds: the token must be rejected")
    return (array[idx // per_byte] >> ((idx % per_byte) * bits)) & ((1 << bits) - 1)


def test_the_drafts_examples_read_as_it_says():
    one_bit = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    assert [read_status("eNrbuRgAAhcBXQ", i, 1) for i in range(16)] == one_bit
    two_bits = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    assert [read_status("eNo76fITAAPfAgc", i, 2) for i in range(12)] == two_bits


def _form(url: str, secret: str, body: bytes) -> bytes:
    basic = base64.b64encode(f"orders-worker:{secret}".encode()).decode()
    request = urllib.request.Request(
        url, data=body, headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read()


def fetch_status_list_token(uri: str) -> str:
    """§8.1: GET the uri, asking for the JWT form."""
    request = urllib.request.Request(uri, headers={"Accept": "application/statuslist+jwt"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.headers["Content-Type"] == "application/statuslist+jwt"
        return answer.read().decode()


def test_tokends_lists_read_with_the_drafts_rules(tokend):
    base = f"http://{tokend.address}"
    issue = lambda: json.loads(_form(f"{base}/oauth/v2/token", tokend.worker_secret, b"grant_type=client_credentials"))["access_token"]
    revoked, kept = issue(), issue()
    _form(f"{base}/oauth/v2/revoke", tokend.worker_secret, f"token={revoked}".encode())

    with urllib.request.urlopen(f"{base}/.well-known/oauth-authorization-server", timeout=10) as answer:
        metadata = json.load(answer)
    keys = jwt.PyJWKClient(metadata["jwks_uri"])
    for token, expected in [(revoked, INVALID), (kept, VALID)]:
        reference = claims(token)["status"]["status_list"]
        status_list_token = fetch_status_list_token(reference["uri"])
        assert jwt.get_unverified_header(status_list_token)["typ"] == "statuslist+jwt"
        key = keys.get_signing_key_from_jwt(status_list_token)
        list_claims = jwt.decode(
            status_list_token, key.key, algorithms=[key.algorithm_name],
            options={"require": ["sub", "iat", "exp"], "verify_aud": False},
        )
        assert list_claims["sub"] == reference["uri"]
        assert list_claims["ttl"] > 0
        status_list = list_claims["status_list"]
        assert read_status(status_list["lst"], reference["idx"], status_list["bits"]) == expected
