//! Tower layers that carry a Transaction Token through a call chain:
//! [`TxnEdgeLayer`] at the edge exchanges the caller's access token for one
//! (once per request); [`TxnTokenLayer`] in every internal service verifies
//! the incoming one; both make it current while the request is handled, and
//! [`PropagateTxnLayer`] on outgoing channels sends the current one on.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use http::{HeaderValue, Request, header::AUTHORIZATION};
use serde_json::json;
use tokend_common::wire::{ACCESS_TOKEN_TYPE, TXN_TOKEN_HEADER, TXN_TOKEN_TYPE};
use tonic::transport::Channel;
use tower::{Layer, Service};

use super::{TxnClaims, TxnToken, TxnVerifier};
use crate::{
    TokenError, VerifyError,
    guard::{Admit, Guarded},
    pb::{ExchangeTokenRequest, token_service_client::TokenServiceClient},
};

/// Verifies the `txn-token` header (gRPC metadata alike) of every request,
/// puts its [`TxnClaims`] in the request's extensions and makes it
/// [current](TxnToken::current) while the request is handled. A request
/// without a valid one, or without the scopes named, never reaches the
/// service: `UNAUTHENTICATED` / `PERMISSION_DENIED`, or 401 / 403.
#[derive(Clone)]
pub struct TxnTokenLayer {
    verifier: TxnVerifier,
    required: Arc<[String]>,
}

impl TxnTokenLayer {
    pub fn new(verifier: TxnVerifier) -> Self {
        Self { verifier, required: Arc::new([]) }
    }

    /// Scopes every request's transaction must hold.
    pub fn require_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.required = scopes.into_iter().map(Into::into).collect();
        self
    }
}

impl<S> Layer<S> for TxnTokenLayer {
    type Service = TxnTokenService<S>;

    fn layer(&self, inner: S) -> TxnTokenService<S> {
        Guarded::new(inner, self.clone())
    }
}

/// The service [`TxnTokenLayer`] makes.
pub type TxnTokenService<S> = Guarded<S, TxnTokenLayer>;

impl Admit for TxnTokenLayer {
    async fn admit<B: Send>(&self, request: &mut Request<B>) -> Result<Option<TxnToken>, VerifyError> {
        let presented = request.headers().get(TXN_TOKEN_HEADER).and_then(|value| value.to_str().ok());
        let token = presented
            .map(Arc::<str>::from)
            .ok_or(VerifyError::invalid("no Transaction Token (txn-token)"))?;
        let claims = self.verifier.verify(&token).await?;
        if !claims.has_scopes(&self.required) {
            return Err(VerifyError::InsufficientScope { required: self.required.join(" ") });
        }
        request.extensions_mut().insert(claims.clone());
        Ok(Some(TxnToken { token, claims: Arc::new(claims) }))
    }
}

/// At the edge of the trust domain: exchanges each request's access token
/// (`authorization: Bearer …`) for a Transaction Token for `scope`, once per
/// request, as a client registered as a `txn_token_requester`; the request
/// then goes on with the token in `txn-token`, its claims in the extensions
/// and the token current. The request's method and path become the
/// token's `tctx`, and its `x-forwarded-for` (first address), if any, `rctx.req_ip`.
#[derive(Clone)]
pub struct TxnEdgeLayer {
    tokend: TokenServiceClient<Channel>,
    client_id: Arc<str>,
    client_secret: Arc<str>,
    trust_domain: Arc<str>,
    scope: Arc<str>,
}

impl TxnEdgeLayer {
    pub fn new(
        tokend: Channel,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        trust_domain: impl Into<String>,
        scope: impl Into<String>,
    ) -> Self {
        Self {
            tokend: TokenServiceClient::new(tokend),
            client_id: client_id.into().into(),
            client_secret: client_secret.into().into(),
            trust_domain: trust_domain.into().into(),
            scope: scope.into().into(),
        }
    }

    /// The Txn-Token Request for `request`, whose access token is `subject`.
    fn exchange_request<B>(&self, request: &Request<B>, subject: &str) -> ExchangeTokenRequest {
        let forwarded = request.headers().get("x-forwarded-for").and_then(|value| value.to_str().ok());
        let context = match forwarded.and_then(|list| list.split(',').next()) {
            Some(address) => json!({ "req_ip": address.trim() }).to_string(),
            None => String::new(),
        };
        let details = json!({ "method": request.method().as_str(), "path": request.uri().path() });
        ExchangeTokenRequest {
            client_id: self.client_id.to_string(),
            client_secret: self.client_secret.to_string(),
            subject_token: subject.to_owned(),
            subject_token_type: ACCESS_TOKEN_TYPE.into(),
            requested_token_type: TXN_TOKEN_TYPE.into(),
            audience: vec![self.trust_domain.to_string()],
            scope: self.scope.to_string(),
            request_context: context,
            request_details: details.to_string(),
            ..Default::default()
        }
    }
}

impl<S> Layer<S> for TxnEdgeLayer {
    type Service = TxnEdgeService<S>;

    fn layer(&self, inner: S) -> TxnEdgeService<S> {
        Guarded::new(inner, self.clone())
    }
}

/// The service [`TxnEdgeLayer`] makes.
pub type TxnEdgeService<S> = Guarded<S, TxnEdgeLayer>;

impl Admit for TxnEdgeLayer {
    async fn admit<B: Send>(&self, request: &mut Request<B>) -> Result<Option<TxnToken>, VerifyError> {
        let bearer = request.headers().get(AUTHORIZATION).and_then(|value| value.to_str().ok());
        let subject =
            bearer.and_then(|value| value.strip_prefix("Bearer ")).ok_or(VerifyError::MissingToken)?;
        let exchange = self.exchange_request(request, subject);
        let token =
            self.tokend.clone().exchange_token(exchange).await.map_err(refused)?.into_inner().access_token;
        let (Ok(value), Some(claims)) = (HeaderValue::from_str(&token), unverified_claims(&token)) else {
            return Err(VerifyError::Unavailable("tokend answered with no Transaction Token".into()));
        };
        request.headers_mut().insert(TXN_TOKEN_HEADER, value);
        request.extensions_mut().insert(claims.clone());
        Ok(Some(TxnToken { token: token.into(), claims: Arc::new(claims) }))
    }
}

/// Why the edge could not get a Transaction Token, as its caller sees it:
/// the caller's token was refused, or tokend could not be had.
fn refused(status: tonic::Status) -> VerifyError {
    let error = TokenError::from(status);
    match error.oauth_error.as_deref() {
        Some("invalid_request" | "invalid_scope" | "invalid_target") => {
            VerifyError::invalid("the access token cannot start this transaction")
        }
        _ => VerifyError::Unavailable(format!("no Transaction Token from tokend: {error}")),
    }
}

/// The claims of a token tokend just issued over an authenticated channel.
fn unverified_claims(token: &str) -> Option<TxnClaims> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Sends the [current](TxnToken::current) Transaction Token, if any, with
/// every outgoing request, as `txn-token` (draft §8.1); wraps a channel as
/// [`BearerLayer`](crate::BearerLayer) does, and goes beside it.
#[derive(Clone, Default)]
pub struct PropagateTxnLayer;

impl<S> Layer<S> for PropagateTxnLayer {
    type Service = PropagateTxn<S>;

    fn layer(&self, inner: S) -> PropagateTxn<S> {
        PropagateTxn { inner }
    }
}

/// The service [`PropagateTxnLayer`] makes.
#[derive(Clone)]
pub struct PropagateTxn<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for PropagateTxn<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        if let Some(current) = TxnToken::current()
            && let Ok(value) = HeaderValue::from_str(&current.token)
        {
            request.headers_mut().entry(TXN_TOKEN_HEADER).or_insert(value);
        }
        self.inner.call(request)
    }
}
