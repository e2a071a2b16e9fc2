"""``Verifier`` for asyncio."""

import asyncio
from typing import Any

from tokend_client.claims import Claims
from tokend_client.verifier import Verifier


class AsyncVerifier:
    """The checks of ``Verifier``, run on a worker thread, so fetching keys or
    a status list never blocks the event loop. ``sync`` is the verifier
    itself, for code that runs on threads already."""

    def __init__(self, verifier: Verifier) -> None:
        self.sync = verifier

    @classmethod
    async def discover(cls, issuer: str, audience: str, **options: Any) -> "AsyncVerifier":
        """As ``Verifier.discover``, with the same options."""
        return cls(await asyncio.to_thread(Verifier.discover, issuer, audience, **options))

    async def verify(self, token: str, **options: Any) -> Claims:
        """As ``Verifier.verify``, with the same options."""
        return await asyncio.to_thread(self.sync.verify, token, **options)
