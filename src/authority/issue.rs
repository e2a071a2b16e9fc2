//! The client-credentials grant (RFC 6749 §4.4): from a token request to a signed token.

use super::{AccessClaims, AuthError, Authority, Credentials, clock, grant};
use crate::domain::{AudienceList, ScopeSet, quoted};

const CLIENT_CREDENTIALS: &str = "client_credentials";

/// A token request as the adapters hand it over, before any of it is checked.
#[derive(Debug)]
pub struct TokenRequest {
    pub grant_type: String,
    pub credentials: Option<Credentials>,
    /// Space-delimited; empty asks for the client's default scopes.
    pub scope: String,
    /// Empty asks for the client's audiences.
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
    pub async fn issue(&self, request: TokenRequest) -> Result<IssuedToken, AuthError> {
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
        let audiences = AudienceList::parse_each(request.audiences.iter().map(String::as_str))
            .map_err(|e| AuthError::InvalidTarget(e.0))?;
        let (client_id, secret) = match request.credentials {
            Some(Credentials::Client { client_id, secret }) => (client_id, secret),
            Some(Credentials::Bearer(_)) => {
                return Err(AuthError::InvalidClient(
                    "a bearer token cannot authenticate a token request; send the client id and secret",
                ));
            }
            None => {
                return Err(AuthError::InvalidClient("no client credentials were presented"));
            }
        };
        let client = self.registry.authenticate(&client_id, &secret).await?;
        let grant = grant::decide(&client, scopes, audiences, &self.default_audience)?;
        let (access_token, claims) = self.tokens.mint(&grant, clock::now())?;
        Ok(IssuedToken { access_token, claims })
    }
}
