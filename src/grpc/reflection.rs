//! Server reflection for grpcurl and the like: tonic-reflection over the
//! contract's descriptors, with the names it echoes in `grpc-message` (a file
//! or symbol that does not exist) cut short as every message quotes what the
//! caller sent, so a 5,000-character name is not sent back whole.

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
};

use axum::http::{HeaderMap, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Frame;
use tonic::{Status, body::Body, server::NamedService, service::Routes};
use tower::Service;

use crate::contract::pb;
use crate::domain::shorten_quoted;

/// `routes` with reflection, v1 and v1alpha, over every descriptor set tokend serves.
pub fn add_to(routes: Routes) -> Routes {
    let builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
    };
    routes
        .add_service(ShortMessages(builder().build_v1().expect("the embedded descriptors are valid")))
        .add_service(ShortMessages(builder().build_v1alpha().expect("the embedded descriptors are valid")))
}

/// A reflection service whose statuses quote names cut short.
#[derive(Clone)]
pub struct ShortMessages<S>(S);

impl<S: NamedService> NamedService for ShortMessages<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<Request<Body>> for ShortMessages<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let answered = self.0.call(request);
        Box::pin(async move {
            let (mut parts, body) = answered.await?.into_parts();
            shorten_status(&mut parts.headers);
            let body = body.map_frame(|frame| match frame.into_trailers() {
                Ok(mut trailers) => {
                    shorten_status(&mut trailers);
                    Frame::trailers(trailers)
                }
                Err(frame) => frame,
            });
            Ok(Response::from_parts(parts, Body::new(body)))
        })
    }
}

/// The status in `headers`, if any, with the names its message quotes cut short.
fn shorten_status(headers: &mut HeaderMap) {
    let Some(status) = Status::from_header_map(headers) else { return };
    let message = shorten_quoted(status.message());
    if message != status.message() {
        let _ = Status::new(status.code(), message).add_header(headers);
    }
}
