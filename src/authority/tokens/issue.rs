//! The token endpoint's grants: client credentials (RFC 6749 §4.4) and
//! token exchange (RFC 8693), for an access token or a Transaction Token,
//! from a request to a signed token.

use std::net::IpAddr;

use super::{
    AccessClaims, Confirmation,
    exchange::{self, Exchange},
    grant,
};
use crate::authority::{
    AuthError, Authority, DpopPresented, Policy, Presented,
    audit::IssuedLine,
    txn::{self, SubjectKind, TXN_TOKEN_TYPE, TxnClaims, TxnRequest, TxnSubject},
};
use crate::domain::{AudienceList, Client, GrantType, ScopeSet, quoted};

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
    /// The JWT bearer grant's `assertion` (RFC 7523 §2.1); empty for the other grants.
    pub assertion: String,
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

/// A signed token, and what the answer to its request says of it.
#[derive(Debug)]
pub struct IssuedToken {
    /// The token: an access token, or a Transaction Token.
    pub access_token: String,
    /// The client that asked for it.
    pub client_id: String,
    /// `Bearer` or `DPoP` for an access token, `N_A` for a Transaction Token.
    pub token_type: &'static str,
    /// The type a token exchange's answer names (RFC 8693 §2.2.1); `None` for a grant that is not one.
    pub issued_token_type: Option<&'static str>,
    pub scope: String,
    pub expires_in: i64,
}

impl IssuedToken {
    fn access(access_token: String, claims: AccessClaims, exchanged: bool) -> Self {
        IssuedToken {
            access_token,
            token_type: claims.token_type(),
            issued_token_type: exchanged.then_some(exchange::ACCESS_TOKEN_TYPE),
            expires_in: claims.exp - claims.iat,
            client_id: claims.client_id,
            scope: claims.scope,
        }
    }

    fn txn(access_token: String, claims: TxnClaims) -> Self {
        IssuedToken {
            access_token,
            // RFC 8693 §2.2.1: not an access token, so no scheme to present it with.
            token_type: "N_A",
            issued_token_type: Some(TXN_TOKEN_TYPE),
            expires_in: claims.exp - claims.iat,
            client_id: claims.req_wl,
            scope: claims.scope,
        }
    }

    /// The kind of token, as the issuance metrics label it.
    pub fn kind(&self) -> &'static str {
        match self.issued_token_type {
            Some(TXN_TOKEN_TYPE) => "txn_token",
            _ => "access_token",
        }
    }
}

/// What a token request asks for.
enum Asked {
    /// The client's own access token, by the client-credentials or the JWT bearer grant.
    Own(GrantType),
    /// An access token by token exchange.
    Exchange,
    /// A Transaction Token, made from a subject token of this kind.
    Txn(TxnRequest, SubjectKind),
}

impl Authority {
    /// Issues a token: the client-credentials grant, or a token exchange.
    /// Everything that can be checked without the client's credentials is
    /// checked first, so malformed requests cost no argon2 work.
    pub async fn issue(&self, request: TokenRequest<'_>) -> Result<IssuedToken, AuthError> {
        let asked = match GrantType::parse(&request.grant_type) {
            Ok(GrantType::TokenExchange) if request.exchange.requested_token_type == TXN_TOKEN_TYPE => {
                let (txn_request, kind) = TxnRequest::parse(&request.exchange)?;
                Asked::Txn(txn_request, kind)
            }
            Ok(GrantType::TokenExchange) => {
                request.exchange.check_shape()?;
                Asked::Exchange
            }
            Ok(grant) => Asked::Own(grant),
            Err(_) if request.grant_type.is_empty() => {
                return Err(AuthError::InvalidRequest("grant_type is required".into()));
            }
            Err(_) => {
                return Err(AuthError::UnsupportedGrantType(format!(
                    "grant_type {} is not supported; the metadata's grant_types_supported lists those that are",
                    quoted(&request.grant_type)
                )));
            }
        };
        let scopes = ScopeSet::parse_delimited(&request.scope).map_err(|e| AuthError::InvalidScope(e.0))?;
        let audiences = request.audiences.iter().map(String::as_str).filter(|audience| !audience.is_empty());
        let audiences = AudienceList::parse_each(audiences).map_err(|e| AuthError::InvalidTarget(e.0))?;
        let origin = request.presented.peer.as_ref().map(|peer| peer.address);
        let caller = match asked {
            Asked::Own(GrantType::JwtBearer) => {
                self.authenticate_grant(request.presented, &request.assertion).await?
            }
            _ => self.authenticate(request.presented, Policy::TokenRequest).await?,
        };
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
        let exchanged = matches!(asked, Asked::Exchange);
        let mut grant = match asked {
            Asked::Own(grant) => grant::decide(&client, grant, scopes, audiences, &self.default_audience)?,
            Asked::Txn(asked, kind) => {
                let request_txn = TxnRequest { scopes, audiences, ..asked };
                let subject_token = &request.exchange.subject_token;
                return self
                    .issue_txn_token(&client, subject_token, request_txn, kind, holding, origin)
                    .await;
            }
            Asked::Exchange => {
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
        Ok(IssuedToken::access(access_token, claims, exchanged))
    }

    /// A Transaction Token for `client` (draft §7.3): its subject read from
    /// `subject_token` as `kind` says (a bound access token only with its
    /// key, as in any exchange), decided, signed, and logged with its `txn`.
    async fn issue_txn_token(
        &self,
        client: &Client,
        subject_token: &str,
        request: TxnRequest,
        kind: SubjectKind,
        holding: Holding<'_>,
        origin: Option<IpAddr>,
    ) -> Result<IssuedToken, AuthError> {
        let subject = match kind {
            SubjectKind::AccessToken => {
                TxnSubject::Access(self.exchanged_token(subject_token, "subject_token", holding).await?)
            }
            SubjectKind::TxnToken => {
                TxnSubject::Txn(self.replaceable(self.presented_txn_token(subject_token)?).await?)
            }
            SubjectKind::UnsignedJson => {
                let sub = txn::unsigned_subject(subject_token)?;
                // RFC 9700 §4.15: a stated subject never names another client.
                if sub != client.id.as_str() && self.registry.names_a_client(&sub).await? {
                    return Err(AuthError::InvalidRequest(
                        "the stated sub names a registered client; a requester states only subjects that are not clients"
                            .into(),
                    ));
                }
                TxnSubject::Stated(sub)
            }
        };
        let claims =
            txn::decide(client, subject, request, &self.txn, self.tokens.issuer(), self.clock.now())?;
        let token = self.tokens.keys().signing.sign_txn_token(&claims)?;
        if let Some(log) = self.audit.issuance() {
            log.record(IssuedLine::of_txn(&claims, origin))?;
        }
        Ok(IssuedToken::txn(token, claims))
    }

    /// A presented Txn-Token's claims, if the workload that asked for it is
    /// still an active client, and so is its subject when a client is its
    /// subject: a transaction does not outlive the clients it speaks for.
    async fn replaceable(&self, claims: TxnClaims) -> Result<TxnClaims, AuthError> {
        if !self.registry.is_active(&claims.req_wl).await? {
            return Err(AuthError::InvalidRequest(
                "the Transaction Token's requester is no longer an active client".into(),
            ));
        }
        if self.registry.names_a_client(&claims.sub).await? && !self.registry.is_active(&claims.sub).await? {
            return Err(AuthError::InvalidRequest(
                "the Transaction Token's subject is a client no longer active".into(),
            ));
        }
        Ok(claims)
    }

    /// The claims of a Txn-Token presented for replacement, if it is one of
    /// this trust domain's and still live; `invalid_request` otherwise.
    fn presented_txn_token(&self, token: &str) -> Result<TxnClaims, AuthError> {
        let keys = self.tokens.keys();
        txn::verify(&keys, token, &self.txn, self.tokens.issuer(), self.clock.now()).ok_or_else(|| {
            AuthError::InvalidRequest(
                "the subject_token is not a live Transaction Token of this trust domain".into(),
            )
        })
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
