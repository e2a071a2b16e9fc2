//! Questions about issued tokens: is it active (RFC 7662), revoke it (RFC 7009),
//! and who is the caller asking.

use super::{ADMIN_SCOPE, AccessClaims, AuthError, Authority, Caller, Credentials, INTROSPECT_SCOPE, clock};
use crate::domain::ScopeSet;

/// The answer to an introspection. Inactive carries nothing, so an inactive
/// token reveals nothing about why.
#[derive(Debug)]
pub enum Introspection {
    Active(AccessClaims),
    Inactive,
}

impl Authority {
    /// Whether `token` is active. The caller sees the claims of its own tokens,
    /// or of any token when it holds `tokend.introspect`; otherwise `Inactive`.
    pub async fn introspect(
        &self,
        credentials: Option<Credentials>,
        token: &str,
    ) -> Result<Introspection, AuthError> {
        let caller = self.caller(credentials).await?;
        Ok(match self.active_claims(token).await? {
            Some(claims)
                if claims.client_id == caller.client_id || caller.scopes.contains(INTROSPECT_SCOPE) =>
            {
                Introspection::Active(claims)
            }
            _ => Introspection::Inactive,
        })
    }

    /// Revokes `token` for good. A client may revoke its own tokens, an admin
    /// any; unknown, malformed or expired tokens succeed silently (RFC 7009 §2.2).
    pub async fn revoke(&self, credentials: Option<Credentials>, token: &str) -> Result<(), AuthError> {
        let caller = self.caller(credentials).await?;
        let Some(claims) = self.tokens.decode(token) else {
            return Ok(());
        };
        if claims.client_id != caller.client_id && !caller.scopes.contains(ADMIN_SCOPE) {
            return Err(AuthError::UnauthorizedClient("a client may revoke only its own tokens".into()));
        }
        self.revocations.revoke(&claims.jti, &claims.client_id, claims.exp, clock::now()).await?;
        Ok(())
    }

    /// Authenticates the caller of introspection or revocation.
    async fn caller(&self, credentials: Option<Credentials>) -> Result<Caller, AuthError> {
        match credentials {
            Some(Credentials::Client { client_id, secret }) => {
                let client = self.registry.authenticate(&client_id, &secret).await?;
                Ok(Caller { client_id: client.id.to_string(), scopes: client.allowed_scopes.clone() })
            }
            Some(Credentials::Bearer(token)) => self.bearer(&token).await,
            None => Err(AuthError::InvalidClient("no client credentials were presented")),
        }
    }

    /// The caller a bearer token speaks for, if the token is active.
    pub(super) async fn bearer(&self, token: &str) -> Result<Caller, AuthError> {
        let claims = self.active_claims(token).await?.ok_or_else(|| {
            AuthError::InvalidToken("the bearer token is invalid, expired or revoked".into())
        })?;
        let scopes = ScopeSet::parse_delimited(&claims.scope).map_err(AuthError::internal)?;
        Ok(Caller { client_id: claims.client_id, scopes })
    }

    /// The claims of `token` if it is active: signed by us, within its lifetime,
    /// not revoked, and its client still exists, is active and is the same
    /// registration (a client deleted and created again does not revive old
    /// tokens: its registration tag differs, and for clients from before tags,
    /// its creation time is later than the token).
    async fn active_claims(&self, token: &str) -> Result<Option<AccessClaims>, AuthError> {
        let Some(claims) = self.tokens.decode(token) else {
            return Ok(None);
        };
        if self.revocations.is_revoked(&claims.jti) {
            return Ok(None);
        }
        let client = self.registry.active_client(&claims.client_id).await?;
        let same_registration = client.is_some_and(|client| {
            client.registration == claims.registration() && client.created_at <= claims.iat
        });
        Ok(same_registration.then_some(claims))
    }
}
