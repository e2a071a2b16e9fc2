//! Revoking a token for good (RFC 7009).

use super::{ADMIN_SCOPE, AuthError, Authority, Policy, Presented, introspection::require_token};

impl Authority {
    /// Revokes `token` for good. A client may revoke its own tokens, an admin
    /// any; unknown, malformed or expired tokens succeed silently (RFC 7009 §2.2).
    pub async fn revoke(&self, presented: Presented<'_>, token: &str) -> Result<(), AuthError> {
        require_token(token)?;
        let caller = self.authenticate(presented, Policy::Revocation).await?;
        let Some(claims) = self.tokens.decode(token) else {
            return Ok(());
        };
        if claims.client_id != caller.client_id.as_str() && !caller.scopes.contains(ADMIN_SCOPE) {
            return Err(AuthError::UnauthorizedClient("a client may revoke only its own tokens".into()));
        }
        self.revocations.revoke(&claims.jti, &claims.client_id, claims.exp, self.clock.now()).await?;
        Ok(())
    }
}
