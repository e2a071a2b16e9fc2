//! The token endpoint's grants: client credentials (RFC 6749 §4.4) and
//! token exchange (RFC 8693), from a request to a signed token.

use super::{
    AccessClaims, Confirmation,
    exchange::{self, Exchange, TOKEN_EXCHANGE},
    grant,
};
use crate::authority::{AuthError, Authority, DpopPresented, Policy, Presented, audit::IssuedLine};
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
    /// The tokens of a token exchange; empty for the client-credentials grant.
    pub exchange: Exchange,
    /// The request's DPoP proof, if it carries one, and where it was sent.
    pub dpop: DpopPresented,
}

/// The keys a request proves it holds, which a bound token presented with it must be bound to.
#[derive(Clone, Copy)]
struct Holding<'a> {
    /// The thumbprint of the connection's client certificate.
    certificate: Option<&'a str>,
    /// The thumbprint of the key of the request's DPoP proof.
    dpop_key: Option<&'a str>,
}

/// A signed access token and what it grants.
#[derive(Debug)]
pub struct IssuedToken {
    pub access_token: String,
    pub claims: AccessClaims,
    /// Whether it came from a token exchange, whose answer names its type.
    pub exchanged: bool,
}

impl IssuedToken {
    pub fn expires_in(&self) -> i64 {
        self.claims.exp - self.claims.iat
    }
}

impl Authority {
    /// Issues a token: the client-credentials grant, or a token exchange.
    /// Everything that can be checked without the client's credentials is
    /// checked first, so malformed requests cost no argon2 work.
    pub async fn issue(&self, request: TokenRequest<'_>) -> Result<IssuedToken, AuthError> {
        let exchange = match request.grant_type.as_str() {
            CLIENT_CREDENTIALS => false,
            TOKEN_EXCHANGE => {
                request.exchange.check_shape()?;
                true
            }
            "" => return Err(AuthError::InvalidRequest("grant_type is required".into())),
            other => {
                return Err(AuthError::UnsupportedGrantType(format!(
                    "grant_type {} is not supported; use {CLIENT_CREDENTIALS} or {TOKEN_EXCHANGE}",
                    quoted(other)
                )));
            }
        };
        let scopes = ScopeSet::parse_delimited(&request.scope).map_err(|e| AuthError::InvalidScope(e.0))?;
        let audiences = request.audiences.iter().map(String::as_str).filter(|audience| !audience.is_empty());
        let audiences = AudienceList::parse_each(audiences).map_err(|e| AuthError::InvalidTarget(e.0))?;
        let origin = request.presented.peer.as_ref().map(|peer| peer.address);
        let caller = self.authenticate(request.presented, Policy::TokenRequest).await?;
        let Some(client) = caller.client else {
            return Err(AuthError::internal("a token request was authenticated without client credentials"));
        };
        if let Some(limit) = client.rate_limit {
            self.rate_limits.take(client.id.as_str(), limit, self.clock.instant()).map_err(
                |retry_after| AuthError::TooManyRequests {
                    message: format!("this client may ask for {} tokens a second", limit.per_second),
                    retry_after,
                },
            )?;
        }
        let dpop_key = self.dpop.proven_key(&request.dpop, "POST", self.clock.now())?;
        if client.auth.dpop_bound && dpop_key.is_none() {
            return Err(AuthError::InvalidDpopProof("a DPoP proof is required".into()));
        }
        if dpop_key.is_some() && caller.bound_to.is_some() {
            return Err(AuthError::InvalidRequest(
                "this client's tokens are bound to its certificate, not to a DPoP key: send no DPoP proof"
                    .into(),
            ));
        }
        let holding = Holding {
            certificate: caller.certificate.as_ref().map(|certificate| certificate.thumbprint()),
            dpop_key: dpop_key.as_deref(),
        };
        let mut grant = match exchange {
            false => grant::decide(&client, scopes, audiences, &self.default_audience)?,
            true => {
                let subject =
                    self.exchanged_token(&request.exchange.subject_token, "subject_token", holding).await?;
                if !request.exchange.actor_token.is_empty() {
                    let actor =
                        self.exchanged_token(&request.exchange.actor_token, "actor_token", holding).await?;
                    if actor.sub != client.id.as_str() {
                        return Err(AuthError::InvalidRequest(
                            "the actor_token must be a token of the client making the exchange".into(),
                        ));
                    }
                }
                let mut grant = exchange::decide(&client, &subject, scopes, audiences)?;
                // A bound subject stays bound: its key was proven above.
                grant.cnf = subject.cnf;
                grant
            }
        };
        // Bound as `authenticate` decided, or to the proof's key, unless an
        // exchanged subject's binding stands.
        if grant.cnf.is_none() {
            grant.cnf =
                caller.bound_to.map(Confirmation::certificate).or(dpop_key.map(Confirmation::dpop_key));
        }
        grant.federated = caller.federated;
        let now = self.clock.now();
        grant.status = self.status_lists.allocate(&grant, now).await?;
        let (access_token, claims) = self.tokens.mint(&grant, now)?;
        if let Some(log) = self.audit.issuance() {
            log.record(IssuedLine::of(&claims, origin))?;
        }
        Ok(IssuedToken { access_token, claims, exchanged: exchange })
    }

    /// The claims of a token presented for exchange, if it is active here
    /// and, when it is bound, presented with its key: over a connection with
    /// its certificate, or with a DPoP proof of its key (RFC 9449 §4.3). A
    /// bound token's copy is worth nothing without the key, exchanged or not.
    async fn exchanged_token(
        &self,
        token: &str,
        name: &str,
        holding: Holding<'_>,
    ) -> Result<AccessClaims, AuthError> {
        let claims = self.active_claims(token).await?.ok_or_else(|| {
            AuthError::InvalidRequest(format!("the {name} is not an active token of this issuer"))
        })?;
        if !claims.is_presented_with(holding.certificate) {
            return Err(AuthError::InvalidRequest(format!(
                "the {name} is bound to a certificate this connection does not present"
            )));
        }
        if claims.dpop_key().is_some_and(|jkt| holding.dpop_key != Some(jkt)) {
            return Err(AuthError::InvalidDpopProof(format!(
                "the {name} is bound to a DPoP key this request's proof does not prove"
            )));
        }
        Ok(claims)
    }
}
