//! Every HTTP route one listener answers, composed from the wings: the OAuth
//! endpoints, every unary method of the contract over Connect, the console,
//! the probes and (unless it has its own listener) `/metrics`. Unknown paths
//! get a JSON 404, known paths with the wrong method a JSON 405 naming the
//! allowed one; every call is timed and counted.

use std::sync::Arc;

use axum::{Extension, Router, routing::get};

use super::probes;
use crate::{
    authority::Authority,
    connect,
    http::{not_found, only_get},
    oauth::{self, ClientCertificates},
    observe::metrics::{self, Metrics},
};

/// The HTTP routes, with Connect calls answered by `grpc` (the gRPC services,
/// untimed: these routes time them); `serve_metrics` adds `GET /metrics`.
pub fn http(
    authority: Arc<Authority>,
    certificates: ClientCertificates,
    metrics: Arc<Metrics>,
    serve_metrics: bool,
    grpc: Router,
) -> Router {
    let router = Router::new();
    let router = match serve_metrics {
        true => router.route(metrics::PATH, only_get(get(metrics::scrape))),
        false => router,
    };
    let router = connect::console::routes(connect::routes(router, grpc));
    oauth::routes(router)
        .route("/healthz", only_get(get(probes::healthz)))
        .route("/readyz", only_get(get(probes::readyz)))
        .fallback(not_found)
        .layer(Extension(certificates))
        .layer(axum::middleware::from_fn_with_state(metrics.clone(), metrics::time_http))
        .layer(Extension(metrics))
        .with_state(authority)
}
