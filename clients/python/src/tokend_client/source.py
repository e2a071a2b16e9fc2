"""The cached, single-flight token source."""

import threading
import time
from typing import Any, Dict, Iterable, Optional

import grpc

from tokend.v1 import token_service_pb2_grpc
from tokend_client.errors import TokenError
from tokend_client.fetching import Fetching, Key, Slot, Token

_Slot = Slot[threading.Lock]

__all__ = ["Token", "TokenSource"]


class TokenSource(Fetching):
    """Fetches and caches tokens for one client; safe to share between threads."""

    def __init__(self, channel: grpc.Channel, client_id: str, client_secret: str, **options: Any) -> None:
        """Options as ``Fetching``: ``refresh_ahead``, ``attempts``, ``first_backoff``, ``timeout``."""
        super().__init__(client_id, client_secret, **options)
        # grpcio-tools writes the service stubs without type information.
        self._stub = token_service_pb2_grpc.TokenServiceStub(channel)  # type: ignore[no-untyped-call]
        self._slots: Dict[Key, _Slot] = {}
        self._slots_lock = threading.Lock()

    def token(self, scope: str = "", audience: Iterable[str] = ()) -> Token:
        """A token for ``scope`` (space-delimited; empty for the client's
        defaults) and ``audience`` (empty for the client's), from the cache while
        it is fresh. Raises ``TokenError``."""
        key = (scope, tuple(audience))
        with self._slots_lock:
            slot = self._slots.setdefault(key, Slot(threading.Lock()))
        with slot.lock:
            now = time.monotonic()
            cached = slot.token
            if cached is not None and cached.use_until > now:
                if cached.refresh_from <= now and not slot.refreshing:
                    slot.refreshing = True
                    threading.Thread(target=self._refresh, args=(key, slot), daemon=True).start()
                return cached
            slot.token = self._fetch(key)
            return slot.token

    def _refresh(self, key: Key, slot: _Slot) -> None:
        """Fetches a successor without holding up callers; on failure the cached
        token stays until it runs out."""
        try:
            token: Optional[Token] = self._fetch(key)
        except TokenError:
            token = None
        with slot.lock:
            if token is not None:
                slot.token = token
            slot.refreshing = False

    def _fetch(self, key: Key) -> Token:
        backoff = self._first_backoff
        attempt = 1
        while True:
            request = self._request(key)
            asked = time.monotonic()
            try:
                return self._token(self._stub.IssueToken(request, timeout=self._timeout, metadata=self._metadata()), asked)
            except grpc.RpcError as error:
                failure = TokenError.from_rpc_error(error)
                if self._nonce_asked(failure):
                    continue  # at once, with the nonce tokend asked for: not counted as a try
                pause = self._pause(failure, attempt, backoff)
                if pause is None:
                    raise failure from None
                time.sleep(pause)
                backoff *= 2
                attempt += 1
