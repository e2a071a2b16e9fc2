"""What a verified access token says about its bearer."""

from typing import Any, Dict, List, Mapping, Optional, Tuple


class Claims:
    """The claims of a verified access token (RFC 9068): the standard ones as
    attributes, any other (a client's fixed claims) through ``get``."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = dict(raw)
        self.iss: str = raw["iss"]
        self.sub: str = raw["sub"]
        self.client_id: str = raw.get("client_id", "")
        audience = raw["aud"]
        self.aud: List[str] = [audience] if isinstance(audience, str) else list(audience)
        #: Space-delimited granted scopes.
        self.scope: str = raw.get("scope", "")
        self.exp: int = raw["exp"]
        self.nbf: int = raw.get("nbf", 0)
        self.iat: int = raw.get("iat", 0)
        self.jti: str = raw.get("jti", "")
        #: What the token is bound to: ``{"x5t#S256": …}`` or ``{"jkt": …}``.
        self.cnf: Optional[Dict[str, str]] = raw.get("cnf")
        #: Who acts for ``sub`` in a delegated token (RFC 8693 §4.1).
        self.act: Optional[Dict[str, Any]] = raw.get("act")
        #: The platform identity that authenticated as the client, if one did.
        self.federated: Optional[Dict[str, str]] = raw.get("federated")
        #: Where the token's status sits in a Token Status List.
        self.status: Optional[Dict[str, Any]] = raw.get("status")

    @property
    def scopes(self) -> Tuple[str, ...]:
        return tuple(scope for scope in self.scope.split(" ") if scope)

    def get(self, name: str, default: Any = None) -> Any:
        """Any claim by name, such as one the client's registration fixes."""
        return self._raw.get(name, default)

    def __repr__(self) -> str:
        return f"Claims(sub={self.sub!r}, client_id={self.client_id!r}, scope={self.scope!r}, exp={self.exp})"
