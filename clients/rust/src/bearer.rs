//! A tower layer that puts a [`TokenSource`] token on every outgoing request:
//! `Bearer`, or for a DPoP-bound token `DPoP` with a fresh proof of the
//! source's key for that request (RFC 9449 §7).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http::{HeaderValue, Request, header::AUTHORIZATION};
use tokend_common::wire::DPOP_HEADER;
use tower::{BoxError, Layer, Service};

use crate::TokenSource;

/// Wraps a channel (or any HTTP service) so each request carries
/// `authorization: Bearer …` for one scope and audience:
///
/// ```ignore
/// let channel = BearerLayer::new(source, "orders.read", ["orders"]).layer(channel);
/// let mut orders = OrdersClient::new(channel);
/// ```
///
/// When no token can be had, the call fails with the token request's status
/// (for example `UNAUTHENTICATED` with `invalid_client`) without being sent.
#[derive(Clone)]
pub struct BearerLayer {
    source: TokenSource,
    scope: String,
    audience: Vec<String>,
    /// Where requests with a path-only URI (gRPC through a channel) go,
    /// for the `htu` of DPoP proofs.
    origin: Option<String>,
}

impl BearerLayer {
    /// `scope` is space-delimited; empty scope or audience take the client's defaults.
    pub fn new<A: Into<String>>(
        source: TokenSource,
        scope: impl Into<String>,
        audience: impl IntoIterator<Item = A>,
    ) -> Self {
        Self {
            source,
            scope: scope.into(),
            audience: audience.into_iter().map(Into::into).collect(),
            origin: None,
        }
    }

    /// The URL the wrapped service reaches (`http://orders:8080`), which DPoP
    /// proofs name for requests whose URI is only a path, as gRPC calls
    /// through a channel are. Needed only with a source that has a DPoP key.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into().trim_end_matches('/').to_owned());
        self
    }

    /// The URL of `uri` for a DPoP proof: as it is when absolute, else at the origin.
    fn url_of(&self, uri: &http::Uri) -> Result<String, BoxError> {
        if uri.scheme().is_some() && uri.authority().is_some() {
            return Ok(uri.to_string());
        }
        let origin =
            self.origin.as_deref().ok_or("a DPoP-bound token needs BearerLayer::origin for this call")?;
        Ok(format!("{origin}{}", uri.path()))
    }
}

impl<S> Layer<S> for BearerLayer {
    type Service = Bearer<S>;

    fn layer(&self, inner: S) -> Bearer<S> {
        Bearer { inner, layer: self.clone() }
    }
}

/// The service [`BearerLayer`] makes.
#[derive(Clone)]
pub struct Bearer<S> {
    inner: S,
    layer: BearerLayer,
}

impl<S, B> Service<Request<B>> for Bearer<S>
where
    S: Service<Request<B>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was polled ready makes this call; the fresh one waits its turn.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let layer = self.layer.clone();
        Box::pin(async move {
            let audience: Vec<&str> = layer.audience.iter().map(String::as_str).collect();
            let token = layer.source.token(&layer.scope, &audience).await.map_err(tonic::Status::from)?;
            let dpop = layer.source.dpop_key().filter(|_| token.token_type.eq_ignore_ascii_case("dpop"));
            let scheme = if dpop.is_some() { "DPoP" } else { "Bearer" };
            let mut value = HeaderValue::try_from(format!("{scheme} {}", token.access_token))?;
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
            if let Some(key) = dpop {
                let url = layer.url_of(request.uri())?;
                let proof = key.proof(request.method().as_str(), &url, Some(&token.access_token), None);
                request.headers_mut().insert(DPOP_HEADER, HeaderValue::try_from(proof)?);
            }
            inner.call(request).await.map_err(Into::into)
        })
    }
}
