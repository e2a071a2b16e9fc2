"""TokenSource against a live tokend: caching, single flight, background
refresh, retries and the OAuth error codes."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from conftest import claims, counted
from tokend_client import TokenError, TokenSource


def worker_source(tokend, channel=None, **options) -> TokenSource:
    return TokenSource(channel or tokend.channel, "orders-worker", tokend.worker_secret, **options)


def test_a_fresh_token_is_served_from_the_cache(tokend):
    channel, counter = counted(tokend.channel)
    source = worker_source(tokend, channel)
    first = source.token()
    second = source.token()
    assert claims(first.access_token)["jti"] == claims(second.access_token)["jti"]
    assert first.scope == "orders.read"
    assert counter.calls == 1


def test_each_scope_and_audience_gets_its_own_token(tokend):
    source = worker_source(tokend)
    read = source.token("orders.read")
    write = source.token("orders.write", ["orders"])
    assert (read.scope, write.scope) == ("orders.read", "orders.write")
    assert claims(write.access_token)["aud"] in ("orders", ["orders"])
    assert claims(read.access_token)["jti"] != claims(write.access_token)["jti"]


def test_many_threads_on_an_empty_cache_share_one_call(tokend):
    channel, counter = counted(tokend.channel)
    source = worker_source(tokend, channel)
    start = threading.Barrier(64)

    def ask(_):
        start.wait()
        return claims(source.token("orders.write").access_token)["jti"]

    with ThreadPoolExecutor(64) as pool:
        ids = set(pool.map(ask, range(64)))
    assert len(ids) == 1
    assert counter.calls == 1


def test_a_wrong_secret_is_invalid_client_and_not_retried(tokend):
    channel, counter = counted(tokend.channel)
    source = TokenSource(channel, "orders-worker", "wrong-secret")
    with pytest.raises(TokenError) as raised:
        source.token()
    assert raised.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert raised.value.oauth_error == "invalid_client"
    assert not raised.value.retryable
    assert counter.calls == 1


def test_a_scope_outside_the_clients_is_invalid_scope(tokend):
    with pytest.raises(TokenError) as raised:
        worker_source(tokend).token("tokend.admin")
    assert raised.value.oauth_error == "invalid_scope"


def test_an_unreachable_server_is_retried_then_reported_unavailable():
    channel, counter = counted(grpc.insecure_channel("127.0.0.1:1"))
    source = TokenSource(channel, "orders-worker", "secret", attempts=3, first_backoff=0.01, timeout=2)
    with pytest.raises(TokenError) as raised:
        source.token()
    assert raised.value.code == grpc.StatusCode.UNAVAILABLE
    assert raised.value.retryable
    assert counter.calls == 3


def test_a_token_near_its_end_is_refreshed_in_the_background(tokend):
    # Tokens live an hour; refreshing 59 minutes ahead puts each one in its refresh window at once.
    source = worker_source(tokend, refresh_ahead=59 * 60)
    first = claims(source.token().access_token)["jti"]
    assert claims(source.token().access_token)["jti"] == first, "served while the refresh runs"
    deadline = time.monotonic() + 5
    while claims(source.token().access_token)["jti"] == first:
        assert time.monotonic() < deadline, "no refreshed token within 5 s"
        time.sleep(0.01)


def test_neither_the_secret_nor_the_token_shows_in_repr(tokend):
    source = worker_source(tokend)
    token = source.token()
    assert tokend.worker_secret not in repr(source)
    assert token.access_token not in repr(token)


def test_a_rate_limited_fetch_waits_as_long_as_retry_info_says_and_succeeds(tokend):
    secret = json.loads(tokend.cli("client", "create", "--id", "limited", "--scopes", "orders.read orders.write",
                                   "--rate-limit", "1", "--burst", "1", "--json"))["client_secret"]
    channel, counter = counted(tokend.channel)
    source = TokenSource(channel, "limited", secret)
    source.token("orders.read")
    started = time.monotonic()
    token = source.token("orders.write")  # the bucket is empty: RESOURCE_EXHAUSTED with RetryInfo, then a token
    assert token.scope == "orders.write"
    assert counter.calls == 3
    assert time.monotonic() - started >= 0.5, "it waited for the bucket to refill"
