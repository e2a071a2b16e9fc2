"""The cached, single-flight token source for asyncio, over ``grpc.aio``."""

import asyncio
import time
from typing import Any, Dict, Iterable, Optional, Set

import grpc

from tokend.v1 import token_service_pb2_grpc
from tokend_client.errors import TokenError
from tokend_client.fetching import Fetching, Key, Slot, Token

_Slot = Slot[asyncio.Lock]


class AsyncTokenSource(Fetching):
    """``TokenSource`` for asyncio: the same cache per (scope, audience),
    refresh ahead in a background task, one call for many waiting callers,
    backoff on UNAVAILABLE (after the server's ``RetryInfo`` when it sends
    one), and the same credentials (``with_private_key``,
    ``with_assertion_file``; a certificate through the channel's TLS)."""

    def __init__(self, channel: grpc.aio.Channel, client_id: str, client_secret: str, **options: Any) -> None:
        """Options as ``TokenSource``: ``refresh_ahead``, ``attempts``, ``first_backoff``, ``timeout``."""
        super().__init__(client_id, client_secret, **options)
        # grpcio-tools writes the service stubs without type information.
        self._stub = token_service_pb2_grpc.TokenServiceStub(channel)  # type: ignore[no-untyped-call]
        self._slots: Dict[Key, _Slot] = {}
        #: Background refreshes, kept so they are not collected while they run.
        self._refreshes: Set["asyncio.Task[None]"] = set()

    async def token(self, scope: str = "", audience: Iterable[str] = ()) -> Token:
        """A token for ``scope`` and ``audience``, from the cache while it is fresh. Raises ``TokenError``."""
        key = (scope, tuple(audience))
        slot = self._slots.setdefault(key, Slot(asyncio.Lock()))
        async with slot.lock:
            now = time.monotonic()
            cached = slot.token
            if cached is not None and cached.use_until > now:
                if cached.refresh_from <= now and not slot.refreshing:
                    slot.refreshing = True
                    task = asyncio.create_task(self._refresh(key, slot))
                    self._refreshes.add(task)
                    task.add_done_callback(self._refreshes.discard)
                return cached
            slot.token = await self._fetch(key)
            return slot.token

    async def _refresh(self, key: Key, slot: _Slot) -> None:
        """Fetches a successor without holding up callers; on failure the cached
        token stays until it runs out."""
        try:
            token: Optional[Token] = await self._fetch(key)
        except TokenError:
            token = None
        async with slot.lock:
            if token is not None:
                slot.token = token
            slot.refreshing = False

    async def _fetch(self, key: Key) -> Token:
        backoff = self._first_backoff
        attempt = 1
        while True:
            request = self._request(key)
            asked = time.monotonic()
            try:
                return self._token(await self._stub.IssueToken(request, timeout=self._timeout, metadata=self._metadata()), asked)
            except grpc.aio.AioRpcError as error:
                failure = TokenError.from_rpc_error(error)
                if self._nonce_asked(failure):
                    continue  # at once, with the nonce tokend asked for: not counted as a try
                pause = self._pause(failure, attempt, backoff)
                if pause is None:
                    raise failure from None
                await asyncio.sleep(pause)
                backoff *= 2
                attempt += 1
