//! Where tokend decides who a caller is. Adapters gather what was presented;
//! here it is parsed once, checked by the verifier for its kind, and held
//! against the policy of the call. A new way of authenticating is a new
//! `Credential` variant and one arm here; the adapters only gather it.

use std::{net::IpAddr, sync::Arc};

mod assertions;
mod credentials;

pub(super) use assertions::Assertions;
pub use assertions::{AssertionSettings, OutboundPolicy};
use credentials::AssertionKind;
pub(super) use credentials::Credential;
pub use credentials::{BodyCredentials, Presented};

use super::{
    ADMIN_SCOPE, AuthError, Authority, BAD_CREDENTIALS, REGISTER_SCOPE, audit::UNNAMED_CLIENT,
    tokens::Federated,
};
use crate::domain::{Client, ClientId, PeerCertificate, ScopeSet};

/// What kind of call is being authenticated, which decides the credentials it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// A token request: the client proves itself with its own credentials.
    TokenRequest,
    /// Introspection: client credentials or a bearer token.
    Introspection,
    /// Revocation: client credentials or a bearer token.
    Revocation,
    /// Client administration: a bearer token carrying `tokend.admin`.
    Admin,
    /// Dynamic client registration: an initial access token, a bearer
    /// token carrying `tokend.register`.
    Register,
}

impl Policy {
    /// The calls it governs, as refusals name them.
    fn task(self) -> &'static str {
        match self {
            Policy::TokenRequest => "a token request",
            Policy::Introspection => "introspection",
            Policy::Revocation => "revocation",
            Policy::Admin => "client administration",
            Policy::Register => "client registration",
        }
    }
}

/// An authenticated caller and the scopes it acts with: a client's allowed
/// scopes when it presented its own credentials, a token's granted scopes
/// when it presented a bearer token.
#[derive(Debug)]
pub struct Caller {
    pub client_id: ClientId,
    pub scopes: ScopeSet,
    /// The client's record, when it proved itself with its own credentials.
    pub client: Option<Arc<Client>>,
    /// The TLS client certificate of the connection, whatever proved the caller.
    pub certificate: Option<Arc<PeerCertificate>>,
    /// The platform workload whose token proved the client, if one did.
    pub federated: Option<Federated>,
    /// The certificate (its `x5t#S256`) the tokens issued to this caller are
    /// bound to: the connection's, when the client asks for bound tokens.
    pub bound_to: Option<String>,
}

/// The client certificate the request came with, on the connection or from
/// a trusted proxy; `invalid_request` when it came both ways.
fn presented_certificate(presented: &Presented<'_>) -> Result<Option<Arc<PeerCertificate>>, AuthError> {
    match &presented.peer {
        Some(peer) => peer.client_certificate().map_err(|err| AuthError::InvalidRequest(err.0)),
        None => Ok(None),
    }
}

impl Authority {
    /// Authenticates a caller for a call of kind `policy`, or says why not.
    pub async fn authenticate(&self, presented: Presented<'_>, policy: Policy) -> Result<Caller, AuthError> {
        let certificate = presented_certificate(&presented)?;
        let address = presented.peer.as_ref().map(|peer| peer.address);
        let caller = self.caller(presented, address, certificate.as_deref(), policy).await?;
        self.with_certificate(caller, certificate, policy, address)
    }

    /// The caller of a JWT bearer grant (RFC 7523 §2.1): the client its
    /// `assertion` proves: the client's own, or a trusted platform's token
    /// for the client `client_id` names, which one of its federated
    /// identities must match. No other client authentication is needed;
    /// when some is presented it must prove the same client (beside the
    /// client's own assertion, a `client_id` alone is ignored).
    pub async fn authenticate_grant(
        &self,
        presented: Presented<'_>,
        assertion: &str,
    ) -> Result<Caller, AuthError> {
        if assertion.is_empty() {
            return Err(AuthError::InvalidRequest("the JWT bearer grant needs an assertion".into()));
        }
        let address = presented.peer.as_ref().map(|peer| peer.address);
        let claimed = ClientId::parse(&presented.body.client_id).ok();
        let now = self.clock.now();
        let proven = self
            .assertions
            .authenticate(&self.registry, claimed.as_ref(), assertion, AssertionKind::Grant, now)
            .await
            .inspect_err(|err| {
                if let AuthError::InvalidGrant(_) = err {
                    let named = assertions::named_client(assertion).or_else(|| claimed.clone());
                    let named = named.as_ref().map_or(UNNAMED_CLIENT, ClientId::as_str);
                    self.audit.authentication_failed(named, "grant_assertion", address);
                }
            })?;
        let body = &presented.body;
        if presented.authorization.is_empty()
            && body.client_secret.is_empty()
            && body.client_assertion.is_empty()
        {
            let certificate = presented_certificate(&presented)?;
            let caller = Caller { federated: proven.federated, ..Caller::client(proven.client) };
            return self.with_certificate(caller, certificate, Policy::TokenRequest, address);
        }
        let caller = self.authenticate(presented, Policy::TokenRequest).await?;
        if caller.client_id != proven.client.id {
            return Err(AuthError::InvalidGrant("the assertion is not the authenticated client's".into()));
        }
        Ok(caller)
    }

    /// `caller` with the connection's `certificate`, and the tokens it asks
    /// for bound to it when its client's are (refused without one).
    fn with_certificate(
        &self,
        mut caller: Caller,
        certificate: Option<Arc<PeerCertificate>>,
        policy: Policy,
        address: Option<IpAddr>,
    ) -> Result<Caller, AuthError> {
        if policy == Policy::TokenRequest
            && caller.client.as_ref().is_some_and(|client| client.auth.bound_tokens)
            && certificate.is_none()
        {
            // Its tokens must be bound, and there is nothing to bind them to.
            self.audit.authentication_failed(caller.client_id.as_str(), "unbound_certificate", address);
            return Err(AuthError::InvalidClient { message: BAD_CREDENTIALS, by_header: false });
        }
        let binds = caller.client.as_ref().is_some_and(|client| client.auth.bound_tokens);
        caller.bound_to = certificate.as_ref().filter(|_| binds).map(|cert| cert.thumbprint().to_owned());
        caller.certificate = certificate;
        Ok(caller)
    }

    async fn caller(
        &self,
        presented: Presented<'_>,
        address: Option<IpAddr>,
        certificate: Option<&PeerCertificate>,
        policy: Policy,
    ) -> Result<Caller, AuthError> {
        match (policy, Credential::from_presented(presented)?) {
            (Policy::Admin | Policy::Register, Credential::Bearer(token)) => {
                let caller = self.bearer(&token, certificate).await?;
                let scope = if policy == Policy::Admin { ADMIN_SCOPE } else { REGISTER_SCOPE };
                if !caller.scopes.contains(scope) {
                    return Err(AuthError::InsufficientScope(format!("the token's scope lacks {scope}")));
                }
                Ok(caller)
            }
            (
                Policy::Admin | Policy::Register,
                Credential::ClientSecret { .. }
                | Credential::Certificate { .. }
                | Credential::Assertion { .. },
            ) => Err(AuthError::InvalidToken(format!(
                "{} needs a bearer token, not client credentials",
                policy.task()
            ))),
            (Policy::Admin | Policy::Register, Credential::None) => {
                Err(AuthError::InvalidToken(format!("{} needs a bearer token", policy.task())))
            }
            (_, Credential::ClientSecret { client_id, secret, by_header }) => {
                let client = self
                    .secrets
                    .check(&self.registry, &client_id, &secret, address)
                    .await?
                    .filter(|client| client.auth.accepts_secret(by_header));
                let client = self.proven(client, &client_id, "client_secret", address, by_header)?;
                Ok(Caller::client(client))
            }
            (_, Credential::Certificate { client_id, certificate }) => {
                let now = self.clock.now();
                let client = self
                    .registry
                    .active_client(&client_id)
                    .await?
                    .filter(|client| client.auth.accepts_certificate(&certificate, now));
                let client = self.proven(client, &client_id, "tls_client_auth", address, false)?;
                Ok(Caller::client(client))
            }
            (_, Credential::Assertion { client_id, assertion, kind }) => {
                let now = self.clock.now();
                let proven = self
                    .assertions
                    .authenticate(&self.registry, client_id.as_ref(), &assertion, kind, now)
                    .await
                    .inspect_err(|err| {
                        if let AuthError::InvalidClient { .. } = err {
                            let named = client_id.clone().or_else(|| assertions::named_client(&assertion));
                            let named = named.as_ref().map_or(UNNAMED_CLIENT, ClientId::as_str);
                            self.audit.authentication_failed(named, "client_assertion", address);
                        }
                    })?;
                Ok(Caller { federated: proven.federated, ..Caller::client(proven.client) })
            }
            (Policy::TokenRequest, Credential::Bearer(_)) => Err(AuthError::InvalidClient {
                message: "a bearer token cannot authenticate a token request; send the client id and secret",
                by_header: true,
            }),
            (Policy::Introspection | Policy::Revocation, Credential::Bearer(token)) => {
                self.bearer(&token, certificate).await
            }
            (_, Credential::None) => Err(AuthError::InvalidClient {
                message: "no client credentials were presented",
                by_header: false,
            }),
        }
    }

    /// The client its credentials proved, or `invalid_client`, counted for
    /// the audit trail under the client id and the method that failed.
    fn proven(
        &self,
        client: Option<Arc<Client>>,
        client_id: &ClientId,
        method: &'static str,
        address: Option<IpAddr>,
        by_header: bool,
    ) -> Result<Arc<Client>, AuthError> {
        client.ok_or_else(|| {
            self.audit.authentication_failed(client_id.as_str(), method, address);
            AuthError::InvalidClient { message: BAD_CREDENTIALS, by_header }
        })
    }

    /// The caller a bearer token speaks for, if the token is active, is meant
    /// for tokend itself (RFC 9068 §4: its `aud` names the issuer or the
    /// default audience, so a token minted for another service cannot be
    /// replayed here), and, when bound, comes over a connection presenting
    /// its certificate (RFC 8705 §3).
    async fn bearer(&self, token: &str, certificate: Option<&PeerCertificate>) -> Result<Caller, AuthError> {
        let claims = self.active_claims(token).await?.ok_or_else(|| {
            AuthError::InvalidToken("the bearer token is invalid, expired or revoked".into())
        })?;
        let own = [self.issuer(), self.default_audience.as_str()];
        if !claims.aud.iter().any(|audience| own.contains(&audience.as_str())) {
            return Err(AuthError::InvalidToken(
                "the bearer token is not meant for tokend: its aud names neither the issuer nor the default audience".into(),
            ));
        }
        if !claims.is_presented_with(certificate.map(PeerCertificate::thumbprint)) {
            return Err(AuthError::InvalidToken(
                "the bearer token is bound to a certificate this connection does not present".into(),
            ));
        }
        // A copy of a DPoP-bound token is worth nothing without its key
        // (RFC 9449 §7.2); tokend's own APIs take no proofs, so they take none.
        if claims.dpop_key().is_some() {
            return Err(AuthError::InvalidToken(
                "the token is DPoP-bound; tokend's own APIs take only bearer tokens".into(),
            ));
        }
        let scopes = ScopeSet::parse_delimited(&claims.scope).map_err(AuthError::internal)?;
        let client_id = ClientId::parse(&claims.client_id).map_err(AuthError::internal)?;
        Ok(Caller { client_id, scopes, client: None, certificate: None, federated: None, bound_to: None })
    }
}

impl Caller {
    /// A client that proved itself with its own credentials.
    fn client(client: Arc<Client>) -> Self {
        Caller {
            client_id: client.id.clone(),
            scopes: client.allowed_scopes.clone(),
            client: Some(client),
            certificate: None,
            federated: None,
            bound_to: None,
        }
    }
}
