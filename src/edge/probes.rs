//! Probes for load balancers and Kubernetes: `GET /healthz` (the process
//! answers) and `GET /readyz` (it can serve: the store answers and a signing
//! key is loaded), the same readiness the gRPC health service reports.

use std::sync::Arc;

use axum::{extract::State, http::StatusCode, response::Response};
use serde_json::json;

use crate::authority::Authority;
use crate::http::no_store_json;

/// Alive: answered by any process that can run a handler.
pub async fn healthz() -> Response {
    no_store_json(StatusCode::OK, &json!({ "status": "alive" }))
}

/// Ready, or 503 with the reason. Asks the store afresh (at most its
/// connection timeout), so a probe sees an outage without waiting for the upkeep.
pub async fn readyz(State(authority): State<Arc<Authority>>) -> Response {
    authority.check_store().await;
    let store_up = *authority.readiness().borrow();
    let kid = authority.keys().signing.kid.clone();
    match store_up {
        true => no_store_json(StatusCode::OK, &json!({ "status": "ready", "signing_key": kid })),
        false => no_store_json(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({ "status": "not ready", "reason": "the database does not answer" }),
        ),
    }
}
