//! A tower layer that puts a [`TokenSource`] token on every outgoing request.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http::{HeaderValue, Request, header::AUTHORIZATION};
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
}

impl BearerLayer {
    /// `scope` is space-delimited; empty scope or audience take the client's defaults.
    pub fn new<A: Into<String>>(
        source: TokenSource,
        scope: impl Into<String>,
        audience: impl IntoIterator<Item = A>,
    ) -> Self {
        Self { source, scope: scope.into(), audience: audience.into_iter().map(Into::into).collect() }
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
            let mut value = HeaderValue::try_from(format!("Bearer {}", token.access_token))?;
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
            inner.call(request).await.map_err(Into::into)
        })
    }
}
