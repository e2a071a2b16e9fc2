//! Revoking a token for good (RFC 7009), its status list bit with it.

use serde_json::json;

use super::introspection::require_token;
use crate::authority::{ADMIN_SCOPE, Actor, AuthError, Authority, EventType, Policy, Presented};

impl Authority {
    /// Revokes `token` for good. A client may revoke its own tokens, an admin
    /// any; unknown, malformed or expired tokens succeed silently (RFC 7009 §2.2).
    /// An admin's revocation of another client's token is audited, naming
    /// the token by its `jti`.
    pub async fn revoke(&self, presented: Presented<'_>, token: &str) -> Result<(), AuthError> {
        require_token(token)?;
        let address = presented.peer.as_ref().map(|peer| peer.address);
        let caller = self.authenticate(presented, Policy::Revocation).await?;
        let Some(claims) = self.tokens.decode(token) else {
            return Ok(());
        };
        let own = claims.client_id == caller.client_id.as_str();
        if !own && !caller.scopes.contains(ADMIN_SCOPE) {
            return Err(AuthError::UnauthorizedClient("a client may revoke only its own tokens".into()));
        }
        let event = (!own).then(|| {
            let details = json!({ "jti": claims.jti, "expires_at": claims.exp });
            let actor = Actor::admin(&caller.client_id, address);
            self.audit.event(&actor, EventType::TokenRevoked, &claims.client_id, details)
        });
        let now = self.clock.now();
        let status = self.status_lists.locate(&claims);
        self.revocations
            .revoke(&claims.jti, &claims.client_id, claims.exp, status, now, event.as_slice())
            .await?;
        match status {
            // Its bit is set in the list as published here at once, without a rebuild.
            Some((list_id, index)) => self.status_lists.revoked(list_id, index),
            None => self.status_lists.changes().mark(),
        }
        Ok(())
    }
}
