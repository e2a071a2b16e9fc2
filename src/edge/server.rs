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
use tokend_common::wire::GRPC_CONTENT_TYPES;
use tokio::{net::TcpListener, sync::watch};
use tonic::service::Routes;
use tonic_health::{ServingStatus, server::HealthReporter};

use super::{
    connections::{self, ConnectionLimits},
    deadline,
    forwarded::TrustedProxies,
    tls::Tls,
};
use crate::{
    authority::Authority,
    contract::pb::{
        audit_service_server::AuditServiceServer, client_admin_server::ClientAdminServer,
        token_service_server::TokenServiceServer,
    },
    failure::Refusal,
    grpc::{self, AuditApi, ClientAdminApi, TokenServiceApi},
    http::Rejection,
    limits::MAX_MESSAGE_BYTES,
    oauth::ClientCertificates,
    observe::{
        access_log,
        metrics::{self, Metrics},
    },
};

/// How often health is re-checked and revocations from other instances are
/// picked up: the longest another instance's revocation takes to apply here.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(5);

/// Where to serve. Without an HTTP listener, the main listener answers gRPC
/// and HTTP alike, told apart by content type. With `tls`, every listener
/// speaks TLS only.
pub struct Listeners {
    pub main: TcpListener,
    pub http: Option<TcpListener>,
    pub tls: Option<Tls>,
    /// Serves `GET /metrics` alone, instead of the HTTP adapter serving it.
    pub metrics: Option<TcpListener>,
    /// TLS-terminating proxies whose forwarded client certificates (RFC 9440) are believed.
    pub proxies: Option<Arc<TrustedProxies>>,
}

impl Listeners {
    /// Where clients reach the HTTP adapter: `https://` when TLS is on, at the
    /// HTTP listener's address if it has its own, the main one's otherwise.
    /// The issuer unless one is configured.
    pub fn base_url(&self) -> std::io::Result<String> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let address = self.http.as_ref().unwrap_or(&self.main).local_addr()?;
        Ok(format!("{scheme}://{address}"))
    }
}

/// Serves until `shutdown` completes, then stops accepting and drains the
/// calls in flight for at most [`DRAIN_TIMEOUT`](crate::limits::DRAIN_TIMEOUT). The caller
/// binds the listeners, so tests can use port 0.
pub async fn serve(
    listeners: Listeners,
    authority: Arc<Authority>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let (stop_background, background_stopped) = watch::channel(());
    let health =
        tokio::spawn(report_health(authority.readiness(), health_reporter, background_stopped.clone()));
    let summaries = tokio::spawn(access_log::summarise_each_minute(background_stopped.clone()));
    let upkeep = tokio::spawn(upkeep(authority.clone(), background_stopped));
    let mut metrics = Metrics::new();
    if let Some(proxies) = listeners.proxies.clone() {
        metrics.count_ignored_forwarded(move || proxies.ignored());
    }
    let metrics = Arc::new(metrics);
    let (stopping, stop) = watch::channel(false);

    let grpc = grpc::reflection::add_to(Routes::new(health_service))
        .add_service(
            TokenServiceServer::new(TokenServiceApi::new(authority.clone(), metrics.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            ClientAdminServer::new(ClientAdminApi::new(authority.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            AuditServiceServer::new(AuditApi::new(authority.clone(), stop.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .into_axum_router()
        .layer(axum::middleware::map_response(grpc::statuses_as_the_spec_says));
    // Connect calls reach the services untimed: the HTTP side times them.
    let connect = deadline::limit_grpc(grpc.clone());
    let grpc = grpc.layer(axum::middleware::from_fn_with_state(metrics.clone(), metrics::time_grpc));
    let grpc = deadline::limit_grpc(grpc);
    let certificates = ClientCertificates(listeners.tls.is_some() || listeners.proxies.is_some());
    let separate_metrics =
        listeners.metrics.map(|listener| (listener, metrics::router(authority.clone(), metrics.clone())));
    let http = super::routes::http(authority, certificates, metrics, separate_metrics.is_none(), connect);
    let http = deadline::limit_http(http);

    let (tls, proxies) = (listeners.tls.clone(), listeners.proxies.clone());
    let reload = listeners.tls.map(|tls| tokio::spawn(tls.follow_files(stop.clone())));
    let (main_http, separate_http) = match listeners.http {
        Some(listener) => (None, Some((listener, http))),
        None => (Some(http), None),
    };
    let main = ByContentType { grpc, http: main_http, refused: unsupported_media_type() };
    let main = axum::Router::new().fallback_service(main);
    let main = tokio::spawn(connections::serve(
        listeners.main,
        main,
        limits,
        tls.clone(),
        proxies.clone(),
        stop.clone(),
    ));
    let separate_metrics = separate_metrics.map(|(listener, router)| {
        tokio::spawn(connections::serve(listener, router, limits, tls.clone(), None, stop.clone()))
    });
    let separate_http = separate_http
        .map(|(listener, http)| tokio::spawn(connections::serve(listener, http, limits, tls, proxies, stop)));

    shutdown.await;
    let _ = stopping.send(true);
    main.await.expect("the server task does not panic");
    for task in [separate_http, separate_metrics].into_iter().flatten() {
        task.await.expect("the server task does not panic");
    }
    if let Some(task) = reload {
        task.await.expect("the reload task does not panic");
    }
    drop(stop_background);
    let _ = tokio::join!(health, upkeep, summaries);
}

/// Sends gRPC requests (`application/grpc`, `application/grpc+proto`) to the
/// gRPC services and everything else to the HTTP adapter, if this listener has
/// it. Other gRPC encodings (JSON, gRPC-Web) are not served: 415, as the gRPC
/// HTTP/2 protocol asks.
#[derive(Clone)]
struct ByContentType {
    grpc: axum::Router,
    http: Option<axum::Router>,
    refused: axum::Router,
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
        let content_type = request.headers().get(header::CONTENT_TYPE).map(|value| value.as_bytes());
        let media_type =
            content_type.map(|value| value.split(|b| *b == b';').next().unwrap_or(value).trim_ascii());
        let served = |media: &[u8]| GRPC_CONTENT_TYPES.iter().any(|grpc| grpc.as_bytes() == media);
        let other_grpc = |media: &[u8]| media.starts_with(GRPC_CONTENT_TYPES[0].as_bytes());
        match (media_type, &mut self.http) {
            (Some(media), _) if served(media) => self.grpc.call(request),
            (_, Some(http)) if !media_type.is_some_and(other_grpc) => http.call(request),
            _ => self.refused.call(request),
        }
    }
}

/// The answer to a request in a gRPC encoding tokend does not serve, or to an
/// HTTP request on a listener that serves only gRPC.
fn unsupported_media_type() -> axum::Router {
    axum::Router::new().fallback(|| async {
        let message = "this listener serves gRPC as application/grpc or application/grpc+proto";
        Rejection::from(Refusal::UnsupportedMediaType(message.into())).oauth()
    })
}

/// The names health answers for: the server as a whole and each service.
const HEALTH_NAMES: [&str; 4] =
    ["", "tokend.v1.TokenService", "tokend.v1.ClientAdmin", "tokend.v1.AuditService"];

/// Keeps health in step with whether the store answers, as soon as a call or
/// the periodic ping finds out.
async fn report_health(
    mut ready: watch::Receiver<bool>,
    reporter: HealthReporter,
    mut stopped: watch::Receiver<()>,
) {
    loop {
        let status =
            if *ready.borrow_and_update() { ServingStatus::Serving } else { ServingStatus::NotServing };
        for name in HEALTH_NAMES {
            reporter.set_service_status(name, status).await;
        }
        tokio::select! {
            changed = ready.changed() => {
                // The store is gone only when the server is: nothing left to report.
                if changed.is_err() {
                    return;
                }
            }
            _ = stopped.changed() => return,
        }
    }
}

/// Pings the store and runs the authority's upkeep every
/// [`MAINTENANCE_INTERVAL`]; a stalled store delays only this, never health.
/// Between rounds, signing keys another instance announces are read at once.
async fn upkeep(authority: Arc<Authority>, mut stopped: watch::Receiver<()>) {
    loop {
        authority.check_store().await;
        authority.maintain().await;
        let next_round = tokio::time::sleep(MAINTENANCE_INTERVAL);
        tokio::pin!(next_round);
        loop {
            tokio::select! {
                _ = &mut next_round => break,
                _ = authority.key_change_announced() => authority.refresh_keys().await,
                _ = stopped.changed() => return,
            }
        }
    }
}
