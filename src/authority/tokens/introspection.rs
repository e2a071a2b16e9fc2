//! Is a token active (RFC 7662), and the check every use of a token makes:
//! signed by us, live, not revoked, its client still the same registration.

use serde_json::{Value, json};

use super::AccessClaims;
use crate::authority::{AuthError, Authority, INTROSPECT_SCOPE, Policy, Presented};
use crate::domain::{Client, ClientId};
use std::sync::Arc;

/// The answer to an introspection. Inactive carries nothing, so an inactive
/// token reveals nothing about why.
#[derive(Debug)]
pub enum Introspection {
    Active(Box<AccessClaims>),
    Inactive,
}

/// An introspection's answer and, when asked for, the same answer signed.
#[derive(Debug)]
pub struct Introspected {
    pub answer: Introspection,
    /// The answer as a JWT (RFC 9701) for the caller, if it asked for one.
    pub signed: Option<String>,
}

impl Introspection {
    /// The answer as RFC 7662 §2.2 members: the token's claims, the client's
    /// fixed claims as members of their own, `token_type`; `{"active":false}`
    /// for an inactive token.
    pub fn to_json(&self) -> Value {
        let Introspection::Active(claims) = self else {
            return json!({ "active": false });
        };
        let mut body = json!({
            "active": true,
            "scope": claims.scope,
            "client_id": claims.client_id,
            "sub": claims.sub,
            "aud": claims.aud,
            "iss": claims.iss,
            "exp": claims.exp,
            "iat": claims.iat,
            "nbf": claims.nbf,
            "jti": claims.jti,
            "token_type": claims.token_type(),
        });
        // Only a bound token has a confirmation (RFC 8705 §3.2, RFC 9449 §6.2).
        if let Some(cnf) = &claims.cnf {
            body["cnf"] = json!(cnf);
        }
        if let Some(federated) = &claims.federated {
            body["federated"] = json!(federated);
        }
        if let Some(act) = &claims.act {
            body["act"] = json!(act);
        }
        // None of the client's claims can shadow the members above: their names are reserved.
        if let (Value::Object(members), Some(fixed)) = (&mut body, claims.claims.members()) {
            members.extend(fixed.iter().map(|(name, value)| (name.clone(), value.clone())));
        }
        body
    }
}

impl Authority {
    /// Whether `token` is active. The caller sees the claims of its own tokens,
    /// or of any token when it holds `tokend.introspect`; otherwise `Inactive`.
    /// With `signed`, the answer comes as a JWT too (RFC 9701): signed with
    /// the issuer's key, for the caller as `aud`.
    pub async fn introspect(
        &self,
        presented: Presented<'_>,
        token: &str,
        signed: bool,
    ) -> Result<Introspected, AuthError> {
        require_token(token)?;
        let caller = self.authenticate(presented, Policy::Introspection).await?;
        let answer = match self.active_claims(token).await? {
            Some(claims)
                if claims.client_id == caller.client_id.as_str()
                    || caller.scopes.contains(INTROSPECT_SCOPE) =>
            {
                Introspection::Active(Box::new(claims))
            }
            _ => Introspection::Inactive,
        };
        let signed = match signed {
            true => {
                let claims = json!({
                    "iss": self.issuer(),
                    "aud": caller.client_id.as_str(),
                    "iat": self.clock.now(),
                    "token_introspection": answer.to_json(),
                });
                Some(self.tokens.keys().signing.sign_introspection(&claims)?)
            }
            false => None,
        };
        Ok(Introspected { answer, signed })
    }

    /// The claims of `token` if it is active: signed by us, within its lifetime,
    /// not revoked, and its client still exists, is active and is the same
    /// registration (a client deleted and created again, or disabled and
    /// enabled again, does not revive old tokens: its registration tag
    /// differs, and for clients from before tags, its creation time is later
    /// than the token). A delegated token carries the authority of the client
    /// it acts for, so that client is held to the same.
    pub(in crate::authority) async fn active_claims(
        &self,
        token: &str,
    ) -> Result<Option<AccessClaims>, AuthError> {
        let Some(claims) = self.tokens.decode(token) else {
            return Ok(None);
        };
        if self.revocations.is_revoked(&claims.jti) {
            return Ok(None);
        }
        let client = self.active_client_named(&claims.client_id).await?;
        if !still_registered(client.as_deref(), Some(claims.registration()), claims.iat) {
            return Ok(None);
        }
        if claims.is_delegated() {
            let subject = self.active_client_named(&claims.sub).await?;
            if !still_registered(subject.as_deref(), claims.subject_registration(), claims.iat) {
                return Ok(None);
            }
        }
        Ok(Some(claims))
    }

    /// The active client a token names; `None` when the name is no client id.
    async fn active_client_named(&self, name: &str) -> Result<Option<Arc<Client>>, AuthError> {
        match ClientId::parse(name) {
            Ok(id) => self.registry.active_client(&id).await,
            Err(_) => Ok(None),
        }
    }
}

/// Whether `client` exists, is active, and is the registration that a token
/// made at `iat` under registration `tag` (when the token names it) was made for.
fn still_registered(client: Option<&Client>, tag: Option<&str>, iat: i64) -> bool {
    client.is_some_and(|client| tag.is_none_or(|tag| client.registration == tag) && client.created_at <= iat)
}

/// The `token` of an introspection or revocation is required (RFC 7662 §2.1,
/// RFC 7009 §2.1); empty counts as absent, whatever the protocol.
pub(super) fn require_token(token: &str) -> Result<(), AuthError> {
    if token.is_empty() {
        return Err(AuthError::InvalidRequest("the token parameter is required".into()));
    }
    Ok(())
}
