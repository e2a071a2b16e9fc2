"""What a call presents to a resource server: the token of its
``Authorization`` header (``Bearer`` or ``DPoP``, the scheme in any case) and
its DPoP proof, read the same by every integration."""

from dataclasses import dataclass
from typing import Optional, Sequence

from tokend_client.claims import Claims
from tokend_client.refusal import InvalidToken
from tokend_client.verifier import Verifier


@dataclass(frozen=True)
class Presented:
    token: str
    #: Whether it came with the DPoP scheme.
    dpop: bool
    proof: Optional[str]


def presented(authorization: Optional[str], proofs: Sequence[str]) -> Presented:
    """The token and proof of a call, or ``InvalidToken`` when it has none usable."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    dpop = scheme.lower() == "dpop"
    if not token or not (dpop or scheme.lower() == "bearer"):
        raise InvalidToken("no bearer token", missing=True)
    if len(proofs) > 1:
        raise InvalidToken("send one DPoP proof, not several", error="invalid_dpop_proof")
    return Presented(token, dpop, proofs[0] if proofs else None)


def verify_presented(verifier: Verifier, call: Presented, scopes: Sequence[str], method: str, url: str,
                     certificate_der: Optional[bytes] = None) -> Claims:
    """Checks a presented token as its scheme asks: a DPoP proof goes with the DPoP scheme only."""
    if call.dpop and call.proof is None:
        raise InvalidToken("a DPoP-bound token needs a DPoP proof", error="invalid_dpop_proof")
    # A bound token presented as a bearer token is refused, whatever proof came with it.
    proof = call.proof if call.dpop else None
    return verifier.verify(call.token, scopes=scopes, certificate_der=certificate_der, dpop_proof=proof,
                           method=method, url=url)
