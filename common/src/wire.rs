//! Values client and server must agree on that the protobuf contract cannot
//! carry. Numbers that depend on each other sit together, with their relation
//! checked at compile time.

/// The `google.rpc.ErrorInfo.domain` of every error tokend sends.
pub const ERROR_DOMAIN: &str = "tokend";

/// The scope that lets a token call ClientAdmin and revoke any client's tokens.
pub const ADMIN_SCOPE: &str = "tokend.admin";
/// The scope that lets a client introspect tokens other than its own.
pub const INTROSPECT_SCOPE: &str = "tokend.introspect";

/// The path of the HTTP token endpoint under the issuer. A client assertion
/// (RFC 7523 §3) names the issuer or this endpoint's URL as its audience.
pub const TOKEN_PATH: &str = "/oauth/v2/token";

/// The `typ` header of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// The token type URI of an access token (RFC 8693 §3), as token exchange names it.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The `typ` header of Transaction Tokens (draft-ietf-oauth-transaction-tokens-10 §6.1).
pub const TXN_TOKEN_TYP: &str = "txntoken+jwt";
/// The token type URI a token exchange asks for, and answers with, for a Transaction Token.
pub const TXN_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:txn_token";
/// The HTTP header (and gRPC metadata key) a Transaction Token travels in between workloads.
pub const TXN_TOKEN_HEADER: &str = "txn-token";

/// The media types gRPC is served and called with; other gRPC encodings
/// (JSON, gRPC-Web) are not spoken.
pub const GRPC_CONTENT_TYPES: [&str; 2] = ["application/grpc", "application/grpc+proto"];

/// How long a verifier may keep the JWKS before fetching it again: the JWKS
/// endpoint's `max-age`, and how long `tokend-client` trusts a fetched key.
pub const JWKS_MAX_AGE_SECONDS: u64 = 300;
/// How long a rotated signing key is published before it signs, by default,
/// so a verifier that fetched the key set just before the rotation has the
/// new key by the time its first token arrives.
pub const KEY_ACTIVATION_DELAY_SECONDS: u64 = 300;
const _: () = assert!(KEY_ACTIVATION_DELAY_SECONDS >= JWKS_MAX_AGE_SECONDS);

/// The HTTP header (and gRPC metadata key) that carries a DPoP proof (RFC 9449 §4.1).
pub const DPOP_HEADER: &str = "dpop";
