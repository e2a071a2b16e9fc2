//! Serving: the gRPC services, health, reflection and the HTTP adapter on
//! already-bound listeners, until a shutdown future completes.

use std::{
    convert::Infallible,
    future::Future,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::Body,
    http::{Request, Response, header},
};
use tokio::{net::TcpListener, sync::watch};
use tonic::{
    service::Routes,
    transport::{Server, server::TcpIncoming},
};
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    authority::Authority,
    deadline,
    grpc::{
        ClientAdminService, TokenServiceImpl,
        pb::{self, client_admin_server::ClientAdminServer, token_service_server::TokenServiceServer},
    },
    http,
};

/// Token requests are a few hundred bytes; anything much larger is abuse.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Covers a queue for argon2 under load; a call still running then is cut off.
/// Calls are answered before this, in their own protocol (see `deadline`);
/// this is the backstop.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How often health is re-checked and revocations from other instances are
/// picked up: the longest another instance's revocation takes to apply here.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(5);
/// How long calls in flight may take to finish after shutdown is asked for;
/// a client that keeps its connection open cannot hold the process past it.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Where to serve. Without an HTTP listener, the main listener answers gRPC
/// and HTTP alike, told apart by content type.
pub struct Listeners {
    pub main: TcpListener,
    pub http: Option<TcpListener>,
}

/// Serves until `shutdown` completes, then stops accepting and drains the
/// calls in flight for at most [`DRAIN_TIMEOUT`]. The caller binds the
/// listeners, so tests can use port 0.
pub async fn serve(
    listeners: Listeners,
    authority: Arc<Authority>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let (stop_health, health_stopped) = watch::channel(());
    let health = tokio::spawn(maintain(authority.clone(), health_reporter, health_stopped));

    let grpc = Routes::new(health_service)
        .add_service(reflection().build_v1().expect("the embedded descriptors are valid"))
        .add_service(reflection().build_v1alpha().expect("the embedded descriptors are valid"))
        .add_service(
            TokenServiceServer::new(TokenServiceImpl::new(authority.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            ClientAdminServer::new(ClientAdminService::new(authority.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .into_axum_router();
    let grpc = deadline::limit(grpc, deadline::GRPC, deadline::grpc_answer);
    let http = deadline::limit(http::router(authority), deadline::HTTP, deadline::http_answer);

    let (stopping, stop) = watch::channel(false);
    let main_routes = match listeners.http {
        Some(_) => Routes::from(grpc),
        None => {
            Routes::from(axum::Router::new().fallback_service(ByContentType { grpc, http: http.clone() }))
        }
    };
    let main = tokio::spawn(run(listeners.main, main_routes, stop.clone()));
    let separate_http = listeners.http.map(|listener| tokio::spawn(run(listener, Routes::from(http), stop)));

    shutdown.await;
    let _ = stopping.send(true);
    let mut outcome = main.await.expect("the server task does not panic");
    if let Some(task) = separate_http {
        outcome = outcome.and(task.await.expect("the server task does not panic"));
    }
    drop(stop_health);
    let _ = health.await;
    outcome
}

/// One listener's server: HTTP/1.1 and HTTP/2, stopped by `stop`, with the
/// drain bounded by [`DRAIN_TIMEOUT`].
async fn run(
    listener: TcpListener,
    routes: Routes,
    mut stop: watch::Receiver<bool>,
) -> Result<(), tonic::transport::Error> {
    let mut deadline = stop.clone();
    let signal = async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
    };
    let serving = Server::builder()
        .accept_http1(true)
        .timeout(REQUEST_TIMEOUT)
        .add_routes(routes)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), signal);
    let drain_deadline = async move {
        let _ = deadline.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    tokio::select! {
        served = serving => served,
        _ = drain_deadline => {
            tracing::warn!("calls still open after {DRAIN_TIMEOUT:?}; stopping anyway");
            Ok(())
        }
    }
}

/// Sends `application/grpc…` requests to the gRPC services and everything else
/// to the HTTP adapter, so one port serves both.
#[derive(Clone)]
struct ByContentType {
    grpc: axum::Router,
    http: axum::Router,
}

impl tower::Service<Request<Body>> for ByContentType {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = <axum::Router as tower::Service<Request<Body>>>::Future;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Routers are always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let is_grpc = request
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc"));
        if is_grpc { self.grpc.call(request) } else { self.http.call(request) }
    }
}

/// Reflection over tokend's contract, the health service and google.rpc's error
/// details (so grpcurl can show ErrorInfo), in both the v1 and the v1alpha
/// protocol (grpcurl before 1.8.8, Postman and evans speak only v1alpha).
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
}

/// Keeps the overall ("") health status in step with whether the store
/// answers, and runs the authority's upkeep.
async fn maintain(authority: Arc<Authority>, reporter: HealthReporter, mut stopped: watch::Receiver<()>) {
    loop {
        let status = if authority.ready().await { ServingStatus::Serving } else { ServingStatus::NotServing };
        reporter.set_service_status("", status).await;
        authority.maintain().await;
        tokio::select! {
            _ = tokio::time::sleep(MAINTENANCE_INTERVAL) => {}
            _ = stopped.changed() => return,
        }
    }
}
