//! A registered client as the authority reasons about it.

use super::{
    AudienceList, ClientAuth, ClientClaims, ClientId, GrantTypes, RateLimit, ScopeSet, SecretId,
    SecretMaxAge, TokenTtl,
};

/// A client's settings; never holds a secret or a secret's hash.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientId,
    pub display_name: String,
    /// Scopes the client may ask for.
    pub allowed_scopes: ScopeSet,
    /// Scopes granted when a request names none; a subset of `allowed_scopes`.
    pub default_scopes: ScopeSet,
    /// Audiences the client may ask for, and the default `aud` of its tokens.
    pub audiences: AudienceList,
    pub token_ttl: TokenTtl,
    /// When the client was disabled; `None` while it is active.
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// A random tag, new for every registration of the same id and again each
    /// time the client is disabled. Tokens carry it in their `jti`, so neither
    /// a client deleted and created again nor one disabled and enabled again
    /// revives earlier tokens. Empty for clients registered before tags.
    pub registration: String,
    /// How the client authenticates, and whether its tokens are bound.
    pub auth: ClientAuth,
    /// How fast it may ask for tokens, per instance; `None` is unlimited.
    pub rate_limit: Option<RateLimit>,
    /// How long its new secrets live; `None` takes the server's setting.
    pub secret_max_age: Option<SecretMaxAge>,
    /// Claims added to every token it gets.
    pub claims: ClientClaims,
    /// Audiences it may obtain delegated tokens for by exchanging other
    /// clients' tokens (RFC 8693); empty: it may exchange only its own.
    pub token_exchange_audiences: AudienceList,
    /// Whether it may ask for Transaction Tokens (an edge gateway, typically).
    pub txn_token_requester: bool,
    /// The grants it may use (RFC 7591 `grant_types`).
    pub grant_types: GrantTypes,
    /// Whether it came by dynamic registration (RFC 7591): software it
    /// names (its `jwks_uri`) is trusted with the public web only.
    pub registered_dynamically: bool,
}

impl Client {
    /// A disabled client gets no tokens, and its tokens introspect inactive.
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }
}

/// What may be shown about one of a client's secrets.
#[derive(Debug, Clone)]
pub struct SecretInfo {
    pub id: SecretId,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A client with the metadata of its live secrets, newest first: the admin view.
#[derive(Debug, Clone)]
pub struct ClientDetails {
    pub client: Client,
    pub secrets: Vec<SecretInfo>,
}
