"""The checks every token tokend signs takes before its claims are read:
its ``typ``, a key the issuer published, that key's one algorithm, the
signature in its one valid (low-s) form, the issuer, the audience and the
lifetime. Access tokens and Transaction Tokens differ only in what they
expect here."""

import base64
import json
from typing import Any, Dict, Sequence

import jwt

from tokend_client.keys import KeySet
from tokend_client.refusal import InvalidToken

#: The order of P-256, whose upper half of ``s`` values tokend never signs.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
#: What a failed check tells the caller, by PyJWT's error.
_REASONS = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidAudienceError, "token is for another audience"),
    (jwt.InvalidIssuerError, "token is from another issuer"),
    (jwt.InvalidSignatureError, "bad signature"),
)


def check(keys: KeySet, token: str, *, types: Sequence[str], wrong_type: str, issuer: str, audience: str,
          leeway: float, require: Sequence[str]) -> Dict[str, Any]:
    """The claims of ``token`` if it is of one of ``types`` (in any case),
    signed by a key of ``keys`` for ``issuer`` and ``audience``, and live."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidToken("malformed token") from error
    if str(header.get("typ", "")).lower() not in types:
        raise InvalidToken(wrong_type)
    key = keys.key(str(header.get("kid", "")))
    if key is None:
        raise InvalidToken("unknown signing key")
    # Only the algorithm the key was published with: no algorithm confusion.
    if header.get("alg") != key.algorithm_name:
        raise InvalidToken("algorithm does not match the key")
    if key.algorithm_name == "ES256" and not _has_low_s(token):
        raise InvalidToken("bad signature")
    # RFC 7519 §4: a second member of one name (a second ``sub`` or
    # ``status``) must not be read last-wins, as json.loads would.
    if not claim_names_are_unique(token):
        raise InvalidToken("a claim name appears twice")
    try:
        claims: Dict[str, Any] = jwt.decode(
            token, key, algorithms=[key.algorithm_name], audience=audience, issuer=issuer,
            leeway=leeway, options={"require": list(require)},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(next((why for kind, why in _REASONS if isinstance(error, kind)), "malformed token")) from error
    return claims


class _Members(list):  # type: ignore[type-arg]
    """One JSON object's members, in order, duplicates kept."""


def claim_names_are_unique(token: str) -> bool:
    """Whether the payload of ``token`` is a JSON object naming each member once."""
    payload = token.split(".")[1] if token.count(".") == 2 else ""
    try:
        members = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)),
                             object_pairs_hook=_Members)
    except ValueError:
        return False
    if not isinstance(members, _Members):
        return False
    names = [name for name, _ in members]
    return len(names) == len(set(names))


def _has_low_s(token: str) -> bool:
    """tokend signs ES256 in the low-s form only; the other form of one
    signature is a second string for one token, refused as tokend does."""
    signature = token.rsplit(".", 1)[-1]
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except ValueError:
        return False
    return len(raw) == 64 and int.from_bytes(raw[32:], "big") <= P256_ORDER // 2
