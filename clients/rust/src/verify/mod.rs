//! Token verification for resource servers: locally against published keys,
//! or remotely through tokend's `Introspect`.

mod binding;
pub(crate) mod claims;
mod dpop;
pub(crate) mod keys;
pub(crate) mod layer;
mod local;
mod rejection;
mod remote;
pub(crate) mod seen;
pub(crate) mod signed;
mod status;

use std::{sync::Arc, time::Duration};
use tokend_common::wire::JWKS_MAX_AGE_SECONDS;

use http::{HeaderMap, Method, Uri, header::AUTHORIZATION};
use tonic::transport::Channel;

use crate::TokenSource;

pub use binding::{Confirmation, PeerCertificate};
pub use claims::Claims;
pub use layer::{VerifyLayer, VerifyService};
pub use rejection::VerifyError;
pub use status::{StatusListCounts, StatusListEntry, TokenStatus};

use dpop::DpopChecker;
use keys::KeyCache;
use local::LocalVerifier;
use remote::Introspector;
use status::{ListSource, StatusLists};

/// Checks tokend access tokens. Cheap to clone; clones share the key cache.
#[derive(Clone)]
pub struct Verifier {
    mode: Arc<Mode>,
    /// Checks the proofs that come with DPoP-bound tokens.
    dpop: Arc<DpopChecker>,
}

/// The call a token came with, which a DPoP proof must name.
pub struct Call<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
}

enum Mode {
    Local(Box<LocalVerifier>),
    Remote(Box<Introspector>),
}

/// Settings for a [`Verifier`]; [`Verifier::builder`] starts one.
pub struct VerifierBuilder {
    issuer: String,
    audience: String,
    leeway: Duration,
    refetch_interval: Duration,
    key_max_age: Duration,
    http: Option<reqwest::Client>,
    origin: Option<String>,
    dpop_proof_max_age: Duration,
    /// Where status lists come from instead of their URIs.
    status_channel: Option<Channel>,
    status_fail_open: bool,
}

impl Verifier {
    /// For tokens from `issuer` (tokend's `--issuer`, e.g. `http://tokend:50051`)
    /// meant for `audience` (this API's name in tokend's audiences).
    pub fn builder(issuer: impl Into<String>, audience: impl Into<String>) -> VerifierBuilder {
        VerifierBuilder {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: Duration::from_secs(10),
            refetch_interval: Duration::from_secs(10),
            key_max_age: Duration::from_secs(JWKS_MAX_AGE_SECONDS),
            http: None,
            origin: None,
            dpop_proof_max_age: Duration::from_secs(60),
            status_channel: None,
            status_fail_open: false,
        }
    }

    /// How this verifier has fared with status lists (all zero for a remote one).
    pub fn status_list_counts(&self) -> StatusListCounts {
        match &*self.mode {
            Mode::Local(local) => local.status_lists().counts(),
            Mode::Remote(_) => StatusListCounts::default(),
        }
    }

    /// The claims of a valid access token for this API.
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        match &*self.mode {
            Mode::Local(local) => local.verify(token).await,
            Mode::Remote(introspector) => introspector.verify(token).await,
        }
    }

    /// The claims of the bearer token in `headers`, if it is valid and holds
    /// every scope in `required`, for a caller without a client certificate:
    /// tokens bound to a certificate are refused.
    pub async fn authorize(&self, headers: &HeaderMap, required: &[String]) -> Result<Claims, VerifyError> {
        self.authorize_with_certificate(headers, None, required).await
    }

    /// As [`Self::authorize`], for a caller that presented `certificate` on
    /// its TLS connection: a bound token must be bound to that certificate.
    pub async fn authorize_with_certificate(
        &self,
        headers: &HeaderMap,
        certificate: Option<&PeerCertificate>,
        required: &[String],
    ) -> Result<Claims, VerifyError> {
        self.authorize_call(None, headers, certificate, required).await
    }

    /// As [`Self::authorize_with_certificate`], for `call`, so a DPoP-bound
    /// token (`Authorization: DPoP …`) is accepted with a proof for it (RFC
    /// 9449 §7); without the call, DPoP-bound tokens are refused. A
    /// DPoP-bound token presented as a bearer token is refused either way.
    pub async fn authorize_call(
        &self,
        call: Option<Call<'_>>,
        headers: &HeaderMap,
        certificate: Option<&PeerCertificate>,
        required: &[String],
    ) -> Result<Claims, VerifyError> {
        let (dpop_scheme, token) = presented_token(headers).ok_or(VerifyError::MissingToken)?;
        let claims = self.verify(token).await?;
        claims.confirm(certificate)?;
        let jkt = claims.cnf.as_ref().and_then(|cnf| cnf.jkt.as_deref());
        match (dpop_scheme, jkt, call) {
            (false, None, _) => {}
            (false, Some(_), _) => {
                return Err(VerifyError::invalid(
                    "token is DPoP-bound; present it with the DPoP scheme and a proof",
                ));
            }
            (true, None, _) => {
                return Err(VerifyError::invalid("token is not DPoP-bound; present it as a bearer token"));
            }
            (true, Some(_), None) => {
                return Err(VerifyError::invalid(
                    "a DPoP-bound token needs the call it came with to be checked",
                ));
            }
            (true, Some(jkt), Some(call)) => self.dpop.check(call.method, call.uri, headers, token, jkt)?,
        }
        claims.require_scopes(required)?;
        Ok(claims)
    }
}

impl VerifierBuilder {
    /// Clock skew allowed on `exp` and `nbf` (default 10 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The least time between two key fetches caused by tokens with an
    /// unknown `kid` (default 10 s), so a stream of forged tokens cannot make
    /// this verifier hammer tokend.
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// How long fetched keys are trusted before they are fetched again
    /// (default 300 s, tokend's JWKS `max-age`), so retired keys stop verifying.
    pub fn key_max_age(mut self, age: Duration) -> Self {
        self.key_max_age = age;
        self
    }

    /// The HTTP client that fetches the metadata and keys: one that trusts
    /// the CA of a tokend serving TLS with a private certificate, for
    /// example. By default, reqwest's defaults (with whichever TLS the
    /// deployment enables in reqwest's features).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// This API's public URL (`https://orders.example`), which DPoP proofs
    /// name for calls that arrive with a path-only URI. Without it, such a
    /// call's `Host` is taken, over either scheme.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// How old a DPoP proof may be (default 60 s); each is remembered this
    /// long and refused a second time.
    pub fn dpop_proof_max_age(mut self, age: Duration) -> Self {
        self.dpop_proof_max_age = age;
        self
    }

    /// Fetch the status lists tokens point to through tokend's
    /// `GetStatusList` on `channel`, for a service that reaches tokend only
    /// over gRPC; by default they are fetched over HTTP at their URIs.
    pub fn status_lists_over(mut self, channel: Channel) -> Self {
        self.status_channel = Some(channel);
        self
    }

    /// FAIL OPEN: accept tokens whose status list cannot be fetched and
    /// whose last copy has expired, instead of refusing them. A revoked
    /// token is then accepted for as long as tokend cannot be reached;
    /// [`Verifier::status_list_counts`] counts each such acceptance.
    pub fn accept_tokens_when_status_lists_are_unreachable(mut self) -> Self {
        self.status_fail_open = true;
        self
    }

    /// A local verifier: finds the JWKS through the issuer's RFC 8414 metadata
    /// and fetches the keys once now, so a misconfigured issuer fails at start.
    /// Tokens that point into a status list are refused once their bit is
    /// set, within the list's `ttl`.
    pub async fn discover(self) -> Result<Verifier, VerifyError> {
        let keys =
            KeyCache::discover(&self.issuer, self.http, self.refetch_interval, self.key_max_age).await?;
        let dpop = Arc::new(DpopChecker::new(self.origin, self.dpop_proof_max_age));
        let source = match self.status_channel {
            Some(channel) => {
                ListSource::Grpc(crate::pb::token_service_client::TokenServiceClient::new(channel))
            }
            None => ListSource::Http(keys.http()),
        };
        let status = StatusLists::new(source, self.status_fail_open, self.refetch_interval, self.leeway);
        let local =
            LocalVerifier::new(keys, status, self.key_max_age, self.issuer, self.audience, self.leeway);
        Ok(Verifier { mode: Arc::new(Mode::Local(Box::new(local))), dpop })
    }

    /// A remote verifier: asks tokend's `Introspect` about every token, so a
    /// revoked token is refused at once. `source` must be able to get tokens
    /// with the `tokend.introspect` scope.
    pub fn introspect(self, channel: Channel, source: TokenSource) -> Verifier {
        let dpop = Arc::new(DpopChecker::new(self.origin, self.dpop_proof_max_age));
        let introspector = Introspector::new(channel, source, self.issuer, self.audience);
        Verifier { mode: Arc::new(Mode::Remote(Box::new(introspector))), dpop }
    }
}

/// The token of an `authorization: Bearer …` or `DPoP …` header (scheme
/// case-insensitive), and whether it came with the DPoP scheme.
fn presented_token(headers: &HeaderMap) -> Option<(bool, &str)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    let dpop = scheme.eq_ignore_ascii_case("dpop");
    ((dpop || scheme.eq_ignore_ascii_case("bearer")) && !token.is_empty()).then_some((dpop, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_needs_a_token() {
        assert_eq!(presented_token(&headers("Bearer abc")), Some((false, "abc")));
        assert_eq!(presented_token(&headers("bearer abc")), Some((false, "abc")));
        assert_eq!(presented_token(&headers("DPoP abc")), Some((true, "abc")));
        assert_eq!(presented_token(&headers("Bearer ")), None);
        assert_eq!(presented_token(&headers("Basic abc")), None);
        assert_eq!(presented_token(&HeaderMap::new()), None);
    }
}
