"""Why a token was refused, as the OAuth error code a caller sees (RFC 6750
§3.1, RFC 9449 §7.1) and the HTTP status that goes with it."""

from typing import Optional


class InvalidToken(Exception):
    """A token that may not be accepted, or (``temporarily_unavailable``) one
    whose state cannot be known right now."""

    _HTTP_STATUS = {"invalid_token": 401, "invalid_dpop_proof": 401, "insufficient_scope": 403}

    def __init__(self, description: str, error: str = "invalid_token", scope: Optional[str] = None,
                 missing: bool = False):
        super().__init__(f"{error}: {description}")
        #: No token at all: the challenge names no error (RFC 6750 §3.1).
        self.missing = missing
        #: ``invalid_token``, ``invalid_dpop_proof``, ``insufficient_scope`` or ``temporarily_unavailable``.
        self.error = error
        #: Why, in a few words; safe to send to the caller.
        self.description = description
        #: For ``insufficient_scope``: every scope the call needs.
        self.scope = scope

    @property
    def http_status(self) -> int:
        """401, 403, or 503 when the verifier could not tell."""
        return self._HTTP_STATUS.get(self.error, 503)

    @property
    def www_authenticate(self) -> Optional[str]:
        """The challenge for an HTTP answer; ``None`` with a 503."""
        if self.error == "insufficient_scope":
            return f'Bearer error="insufficient_scope", scope="{self.scope or ""}"'
        if self.error == "invalid_dpop_proof":
            return f'DPoP error="invalid_dpop_proof", error_description="{self.description}"'
        if self.missing:
            return "Bearer"
        if self.error == "invalid_token":
            return f'Bearer error="invalid_token", error_description="{self.description}"'
        return None


def unavailable(description: str) -> InvalidToken:
    return InvalidToken(description, error="temporarily_unavailable")
