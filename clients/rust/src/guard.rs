//! The one tower service behind every layer that lets a request through only
//! once a check admits it ([`VerifyLayer`](crate::VerifyLayer),
//! [`TxnTokenLayer`](crate::TxnTokenLayer), [`TxnEdgeLayer`](crate::TxnEdgeLayer)):
//! the check may add to the request (claims in its extensions, a header)
//! and name a Transaction Token to make current while the service handles
//! it; a refused request is answered here, as gRPC or as HTTP.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http::{Request, Response};
use tower::Service;

use crate::{TxnToken, VerifyError, verify::layer::refusal};

/// A check a [`Guarded`] service runs on every request before its service sees it.
pub trait Admit: Clone + Send + Sync + 'static {
    /// Admits `request` (adding to it what the service reads), with the
    /// Transaction Token to make current, if any; or refuses it.
    fn admit<B: Send>(
        &self,
        request: &mut Request<B>,
    ) -> impl Future<Output = Result<Option<TxnToken>, VerifyError>> + Send;
}

/// A service whose requests an [`Admit`] check lets through.
#[derive(Clone)]
pub struct Guarded<S, A> {
    inner: S,
    admit: A,
}

impl<S, A> Guarded<S, A> {
    pub(crate) fn new(inner: S, admit: A) -> Self {
        Self { inner, admit }
    }
}

impl<S, A, B, ResBody> Service<Request<B>> for Guarded<S, A>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    A: Admit,
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
        // The clone that was polled ready serves this request.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let admit = self.admit.clone();
        Box::pin(async move {
            match admit.admit(&mut request).await {
                Ok(Some(current)) => current.scope(inner.call(request)).await,
                Ok(None) => inner.call(request).await,
                Err(error) => Ok(refusal(&request, error)),
            }
        })
    }
}
