//! Is a token active (RFC 7662), and the check every use of a token makes:
//! signed by us, live, not revoked, its client still the same registration.

use super::{AccessClaims, AuthError, Authority, INTROSPECT_SCOPE, Policy, Presented};

/// The answer to an introspection. Inactive carries nothing, so an inactive
/// token reveals nothing about why.
#[derive(Debug)]
pub enum Introspection {
    Active(Box<AccessClaims>),
    Inactive,
}

impl Authority {
    /// Whether `token` is active. The caller sees the claims of its own tokens,
    /// or of any token when it holds `tokend.introspect`; otherwise `Inactive`.
    pub async fn introspect(
        &self,
        presented: Presented<'_>,
        token: &str,
    ) -> Result<Introspection, AuthError> {
        require_token(token)?;
        let caller = self.authenticate(presented, Policy::Introspection).await?;
        Ok(match self.active_claims(token).await? {
            Some(claims)
                if claims.client_id == caller.client_id.as_str()
                    || caller.scopes.contains(INTROSPECT_SCOPE) =>
            {
                Introspection::Active(Box::new(claims))
            }
            _ => Introspection::Inactive,
        })
    }

    /// The claims of `token` if it is active: signed by us, within its lifetime,
    /// not revoked, and its client still exists, is active and is the same
    /// registration (a client deleted and created again, or disabled and
    /// enabled again, does not revive old tokens: its registration tag
    /// differs, and for clients from before tags, its creation time is later
    /// than the token).
    pub(super) async fn active_claims(&self, token: &str) -> Result<Option<AccessClaims>, AuthError> {
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

/// The `token` of an introspection or revocation is required (RFC 7662 §2.1,
/// RFC 7009 §2.1); empty counts as absent, whatever the protocol.
pub(super) fn require_token(token: &str) -> Result<(), AuthError> {
    if token.is_empty() {
        return Err(AuthError::InvalidRequest("the token parameter is required".into()));
    }
    Ok(())
}
