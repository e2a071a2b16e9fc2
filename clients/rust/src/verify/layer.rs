//! A tower layer that lets through only requests with a valid bearer token.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};
use tokend_common::wire::GRPC_CONTENT_TYPES;

use http::{Request, Response, header::CONTENT_TYPE};
use tower::{Layer, Service};

use super::{Call, PeerCertificate, Verifier};

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
        VerifyService { inner, layer: self.clone() }
    }
}

/// The service [`VerifyLayer`] makes.
#[derive(Clone)]
pub struct VerifyService<S> {
    inner: S,
    layer: VerifyLayer,
}

impl<S, B, ResBody> Service<Request<B>> for VerifyService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let layer = self.layer.clone();
        Box::pin(async move {
            let certificate = PeerCertificate::from_extensions(request.extensions());
            let call = Call { method: request.method(), uri: request.uri() };
            let verdict = layer
                .verifier
                .authorize_call(Some(call), request.headers(), certificate.as_ref(), &layer.required)
                .await;
            match verdict {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    inner.call(request).await
                }
                Err(error) if is_grpc(&request) => Ok(tonic::Status::from(error).into_http()),
                Err(error) => Ok(error.http_response()),
            }
        })
    }
}

fn is_grpc<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(GRPC_CONTENT_TYPES[0].as_bytes()))
}
