"""AsyncTokenSource against a live tokend over grpc.aio: caching, one call
for many waiting callers, background refresh, and failures that are not
retried."""

import asyncio

import grpc
import pytest

from conftest import claims
from tokend_client import AsyncTokenSource, TokenError


class Counter(grpc.aio.UnaryUnaryClientInterceptor):
    """Counts the calls that go out through a channel."""

    def __init__(self) -> None:
        self.calls = 0

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        self.calls += 1
        return await continuation(client_call_details, request)


def run(tokend, scenario):
    """Runs ``scenario(channel, counter)`` on a fresh grpc.aio channel."""

    async def main():
        counter = Counter()
        async with grpc.aio.insecure_channel(tokend.address, interceptors=[counter]) as channel:
            return await scenario(channel, counter)

    return asyncio.run(main())


def test_many_waiting_callers_share_one_call_and_then_the_cache(tokend):
    async def scenario(channel, counter):
        source = AsyncTokenSource(channel, "orders-worker", tokend.worker_secret)
        tokens = await asyncio.gather(*(source.token() for _ in range(50)))
        assert len({claims(token.access_token)["jti"] for token in tokens}) == 1
        assert (await source.token()).access_token == tokens[0].access_token
        written = await source.token("orders.write", ["orders"])
        assert written.scope == "orders.write"
        assert counter.calls == 2, "one per (scope, audience)"

    run(tokend, scenario)


def test_a_token_near_its_end_is_refreshed_in_the_background(tokend):
    async def scenario(channel, counter):
        # Refresh from the start: each call hands out the cached token and fetches its successor.
        source = AsyncTokenSource(channel, "orders-worker", tokend.worker_secret, refresh_ahead=10_000)
        first = await source.token()
        assert (await source.token()).access_token == first.access_token, "served at once"
        for _ in range(100):
            await asyncio.sleep(0.02)
            if (await source.token()).access_token != first.access_token:
                break
        else:
            pytest.fail("no successor was fetched")
        assert counter.calls >= 2

    run(tokend, scenario)


def test_failures_that_retrying_cannot_mend_are_raised_at_once(tokend):
    async def scenario(channel, counter):
        wrong = AsyncTokenSource(channel, "orders-worker", "tokend_wrong")
        with pytest.raises(TokenError) as refused:
            await wrong.token()
        assert (refused.value.oauth_error, refused.value.retryable) == ("invalid_client", False)
        assert counter.calls == 1, "not retried"
        source = AsyncTokenSource(channel, "orders-worker", tokend.worker_secret)
        with pytest.raises(TokenError) as refused:
            await source.token("tokend.admin")
        assert refused.value.oauth_error == "invalid_scope"
        assert "tokend_wrong" not in repr(wrong) and repr(wrong) == "AsyncTokenSource(client_id='orders-worker')"

    run(tokend, scenario)
