"""Keys that rotate on a schedule, seen by a stock JWKS client: PyJWT checks
every token with a key set it fetched and keeps for as long as the JWKS's
Cache-Control max-age says, fetching it again only once that has passed
(never because a token names an unknown key). In real time, with keys
rotating every 6 s and signing 2 s after they are published, every token
verifies: each key is published before any token carries it."""

import base64
import json
import os
import re
import subprocess
import time
import urllib.request

import jwt

from conftest import tokend_binary


def _post_token(base: str, client_id: str, secret: str) -> str:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    request = urllib.request.Request(
        f"{base}/oauth/v2/token",
        data=b"grant_type=client_credentials",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["access_token"]


class CachingKeySet:
    """A key set fetched from the JWKS and trusted for its max-age."""

    def __init__(self, jwks_uri: str) -> None:
        self.jwks_uri = jwks_uri
        self.fetched_at = 0.0
        self.max_age = 0
        self.keys: "dict[str, jwt.PyJWK]" = {}

    def key(self, kid: str) -> "jwt.PyJWK | None":
        if time.monotonic() - self.fetched_at >= self.max_age:
            with urllib.request.urlopen(self.jwks_uri, timeout=10) as answer:
                cache_control = answer.headers["Cache-Control"]
                keys = json.load(answer)
            self.max_age = int(re.search(r"max-age=(\d+)", cache_control).group(1))
            self.keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(keys).keys}
            self.fetched_at = time.monotonic()
        return self.keys.get(kid)


def test_a_caching_jwks_client_never_meets_a_token_signed_by_a_key_it_has_not_seen(tmp_path):
    binary = tokend_binary()
    env = {**os.environ, "TOKEND_DATABASE_URL": f"sqlite://{tmp_path / 'tokend.db'}", "RUST_LOG": "warn"}
    created = subprocess.run(
        [binary, "client", "create", "--id", "svc", "--scopes", "read", "--json"],
        env=env, check=True, capture_output=True, text=True,
    )
    secret = json.loads(created.stdout)["client_secret"]
    schedule = ["--key-rotation-period", "6s", "--key-activation-delay", "2s"]
    server = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", *schedule], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        base = "http://" + server.stdout.readline().split()[-1]
        key_set = CachingKeySet(f"{base}/oauth/v2/keys")
        kids = set()
        until = time.monotonic() + 22
        while time.monotonic() < until:
            token = _post_token(base, "svc", secret)
            kid = jwt.get_unverified_header(token)["kid"]
            key = key_set.key(kid)
            assert key is not None, f"a token signed by {kid}, which the cached key set lacks"
            claims = jwt.decode(token, key, algorithms=["ES256"], audience="tokend", issuer=base)
            assert claims["client_id"] == "svc"
            kids.add(kid)
            time.sleep(0.1)
        assert key_set.max_age == 2, "the JWKS is cached no longer than a new key waits"
        assert len(kids) >= 2, f"the keys rotated while tokens were issued: {kids}"
    finally:
        server.terminate()
        server.wait(timeout=15)
