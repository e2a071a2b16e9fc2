//! A tower layer that lets through only requests with a valid bearer token.

use std::sync::Arc;
use tokend_common::wire::GRPC_CONTENT_TYPES;

use http::{Request, Response, header::CONTENT_TYPE};
use tower::Layer;

use super::{Call, PeerCertificate, Verifier, VerifyError};
use crate::{
    TxnToken,
    guard::{Admit, Guarded},
};

/// Verifies the bearer token of every request and puts its [`Claims`](super::Claims)
/// in the request's extensions (tonic handlers read them with
/// `request.extensions().get::<Claims>()`). A request without a valid token,
/// or without every scope named in [`require_scopes`](Self::require_scopes),
/// never reaches the service: gRPC callers get `UNAUTHENTICATED` /
/// `PERMISSION_DENIED`, HTTP callers 401 / 403 with a `WWW-Authenticate` challenge.
/// A token bound to a client certificate (RFC 8705) is let through only from
/// a caller that presented that certificate ([`PeerCertificate`]).
#[derive(Clone)]
pub struct VerifyLayer {
    verifier: Verifier,
    required: Arc<[String]>,
}

impl VerifyLayer {
    pub fn new(verifier: Verifier) -> Self {
        Self { verifier, required: Arc::new([]) }
    }

    /// Scopes every request needs; handlers can require more per call with
    /// [`Claims::require_scopes`](super::Claims::require_scopes).
    pub fn require_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.required = scopes.into_iter().map(Into::into).collect();
        self
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = VerifyService<S>;

    fn layer(&self, inner: S) -> VerifyService<S> {
        Guarded::new(inner, self.clone())
    }
}

/// The service [`VerifyLayer`] makes.
pub type VerifyService<S> = Guarded<S, VerifyLayer>;

impl Admit for VerifyLayer {
    async fn admit<B: Send>(&self, request: &mut Request<B>) -> Result<Option<TxnToken>, VerifyError> {
        let certificate = PeerCertificate::from_extensions(request.extensions());
        let call = Call { method: request.method(), uri: request.uri() };
        let claims = self
            .verifier
            .authorize_call(Some(call), request.headers(), certificate.as_ref(), &self.required)
            .await?;
        request.extensions_mut().insert(claims);
        Ok(None)
    }
}

/// The answer refusing `request`: a gRPC status for a gRPC call, else an HTTP one.
pub(crate) fn refusal<B, ResBody: Default>(request: &Request<B>, error: VerifyError) -> Response<ResBody> {
    match is_grpc(request) {
        true => tonic::Status::from(error).into_http(),
        false => error.http_response(),
    }
}

fn is_grpc<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(GRPC_CONTENT_TYPES[0].as_bytes()))
}
