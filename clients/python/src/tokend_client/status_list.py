"""Token Status Lists (draft-ietf-oauth-status-list-20) for the verifier:
each list a token points to is fetched at its URI, checked (``typ``, the
issuer's signature, ``sub``, ``exp``), kept for its ``ttl``, and the token's
bit read. One fetch per list per ``ttl`` however many requests; while one
caller fetches, the others use the copy in hand. A list that cannot be
fetched serves until its ``exp``, then its tokens are refused (fail closed)
unless the verifier was told to fail open."""

import base64
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Dict, Optional

import jwt

from tokend_client.keys import Http, KeySet
from tokend_client.refusal import InvalidToken, unavailable

MEDIA_TYPE = "application/statuslist+jwt"
TYP = "statuslist+jwt"
#: The bounds put on a list's ``ttl``.
MIN_TTL, MAX_TTL = 1.0, 3600.0
#: The largest list inflated (a bound on what a broken list can make us allocate).
MAX_LIST_BYTES = 16 << 20


@dataclass
class _Held:
    bits: bytes
    refresh_at: float
    #: The list's ``exp``, in seconds since the epoch.
    exp: float


class _Slot:
    def __init__(self) -> None:
        self.held: Optional[_Held] = None
        self.fetching = threading.Lock()
        self.last_failure: Optional[float] = None


class StatusLists:
    def __init__(self, http: Http, keys: KeySet, *, fail_open: bool, retry_interval: float, leeway: float) -> None:
        self._http, self._keys = http, keys
        self._fail_open, self._retry_interval, self._leeway = fail_open, retry_interval, leeway
        self._slots: Dict[str, _Slot] = {}
        self._slots_lock = threading.Lock()
        #: Lists fetched and accepted, and fetches that failed or did not check out.
        self.fetched = 0
        self.failed = 0

    def check(self, uri: str, idx: int) -> None:
        """Raises ``InvalidToken`` unless the status at ``idx`` of the list at ``uri`` is VALID."""
        with self._slots_lock:
            slot = self._slots.setdefault(uri, _Slot())
        held = slot.held
        if held and time.monotonic() < held.refresh_at:
            return _read(held, idx)
        usable = held if held and self._valid(held) else None
        if not slot.fetching.acquire(blocking=usable is None):
            return _read(usable, idx) if usable else None  # someone is fetching; the copy in hand serves
        try:
            fetched_meanwhile = slot.held and time.monotonic() < slot.held.refresh_at
            retry_due = slot.last_failure is None or time.monotonic() - slot.last_failure >= self._retry_interval
            if not fetched_meanwhile and retry_due:
                try:
                    slot.held, slot.last_failure = self._fetch(uri), None
                    self.fetched += 1
                except InvalidToken:
                    slot.last_failure = time.monotonic()
                    self.failed += 1
        finally:
            slot.fetching.release()
        if slot.held and self._valid(slot.held):
            return _read(slot.held, idx)
        if not self._fail_open:
            raise unavailable(f"the status list {uri} cannot be had")
        return None

    def _valid(self, held: _Held) -> bool:
        return time.time() < held.exp + self._leeway

    def _fetch(self, uri: str) -> _Held:
        token = self._http.get(uri, MEDIA_TYPE).decode()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise unavailable(f"the status list {uri} is malformed") from error
        if header.get("typ") != TYP:
            raise unavailable(f"the status list {uri} is not a status list token (typ)")
        key = self._keys.key(str(header.get("kid", "")))
        if key is None or header.get("alg") != key.algorithm_name:
            raise unavailable(f"the status list {uri} has an unknown key")
        try:
            claims = jwt.decode(
                token, key, algorithms=[key.algorithm_name], leeway=self._leeway,
                options={"require": ["exp", "iat", "sub"], "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise unavailable(f"the status list {uri} does not verify") from error
        status_list = claims.get("status_list") or {}
        if claims["sub"] != uri or status_list.get("bits") != 1 or not isinstance(status_list.get("lst"), str):
            raise unavailable(f"the status list {uri} is not a 1-bit list for this URI")
        lst = status_list["lst"]
        try:
            inflater = zlib.decompressobj()
            bits = inflater.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)), MAX_LIST_BYTES)
            if inflater.unconsumed_tail:
                raise ValueError("too large")
        except (ValueError, zlib.error) as error:
            raise unavailable(f"the status list {uri} does not decode") from error
        ttl = min(max(float(claims.get("ttl", MAX_TTL)), MIN_TTL), MAX_TTL)
        until_exp = max(float(claims["exp"]) - time.time(), 0.0)
        return _Held(bits, time.monotonic() + min(ttl, until_exp), float(claims["exp"]))


def _read(held: _Held, idx: int) -> None:
    if idx < 0 or idx // 8 >= len(held.bits):
        raise InvalidToken("token status index is beyond its list")
    if held.bits[idx // 8] >> (idx % 8) & 1:
        raise InvalidToken("token revoked")
