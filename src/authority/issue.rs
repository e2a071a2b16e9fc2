//! The client-credentials grant (RFC 6749 §4.4): from a token request to a signed token.

use std::time::Instant;

use super::{AccessClaims, AuthError, Authority, Policy, Presented, audit::IssuedLine, grant};
use crate::domain::{AudienceList, ScopeSet, quoted};

const CLIENT_CREDENTIALS: &str = "client_credentials";

/// A token request as the adapters hand it over, before any of it is checked.
pub struct TokenRequest<'a> {
    pub grant_type: String,
    pub presented: Presented<'a>,
    /// Space-delimited; empty asks for the client's default scopes.
    pub scope: String,
    /// Empty asks for the client's audiences; empty entries count as absent.
    pub audiences: Vec<String>,
}

/// A signed access token and what it grants.
#[derive(Debug)]
pub struct IssuedToken {
    pub access_token: String,
    pub claims: AccessClaims,
}

impl IssuedToken {
    pub fn expires_in(&self) -> i64 {
        self.claims.exp - self.claims.iat
    }
}

impl Authority {
    /// Issues a token. Everything that can be checked without the client's
    /// secret is checked first, so malformed requests cost no argon2 work.
    pub async fn issue(&self, request: TokenRequest<'_>) -> Result<IssuedToken, AuthError> {
        match request.grant_type.as_str() {
            CLIENT_CREDENTIALS => {}
            "" => return Err(AuthError::InvalidRequest("grant_type is required".into())),
            other => {
                return Err(AuthError::UnsupportedGrantType(format!(
                    "grant_type {} is not supported; use {CLIENT_CREDENTIALS}",
                    quoted(other)
                )));
            }
        }
        let scopes = ScopeSet::parse_delimited(&request.scope).map_err(|e| AuthError::InvalidScope(e.0))?;
        let audiences = request.audiences.iter().map(String::as_str).filter(|audience| !audience.is_empty());
        let audiences = AudienceList::parse_each(audiences).map_err(|e| AuthError::InvalidTarget(e.0))?;
        let origin = request.presented.peer.as_ref().map(|peer| peer.address);
        let caller = self.authenticate(request.presented, Policy::TokenRequest).await?;
        let Some(client) = caller.client else {
            return Err(AuthError::internal("a token request was authenticated without client credentials"));
        };
        if let Some(limit) = client.rate_limit {
            self.rate_limits.take(client.id.as_str(), limit, Instant::now()).map_err(|retry_after| {
                AuthError::TooManyRequests {
                    message: format!("this client may ask for {} tokens a second", limit.per_second),
                    retry_after,
                }
            })?;
        }
        let mut grant = grant::decide(&client, scopes, audiences, &self.default_audience)?;
        // `authenticate` refused a client with bound tokens and no certificate.
        grant.bound_to = caller
            .certificate
            .filter(|_| client.auth.bound_tokens)
            .map(|certificate| certificate.thumbprint().to_owned());
        grant.federated = caller.federated;
        let (access_token, claims) = self.tokens.mint(&grant, self.clock.now())?;
        if let Some(log) = self.audit.issuance() {
            log.record(IssuedLine::of(&claims, origin));
        }
        Ok(IssuedToken { access_token, claims })
    }
}
