//! The edge of the example call chain of Transaction Tokens: an HTTP API
//! (`GET /visit`) that takes a caller's access token, exchanges it once at
//! tokend for a Transaction Token (`TxnEdgeLayer`, as a client registered
//! with `--txn-token-requester`) and visits the first internal service with
//! it; answers with what every service of the chain saw, as JSON.
//!
//! ```sh
//! TOKEND_URL=http://127.0.0.1:50051 EDGE_CLIENT_ID=edge EDGE_CLIENT_SECRET=… \
//!   EDGE_FIRST_HOP=http://127.0.0.1:50061 cargo run -p tokend-client --example txn_edge
//! ```
//! Settings: `TOKEND_URL` (and `TXN_TRUST_DOMAIN`, default the same),
//! `EDGE_CLIENT_ID`, `EDGE_CLIENT_SECRET`, `EDGE_SCOPE` (default
//! `orders.read`), `EDGE_FIRST_HOP`, `EDGE_LISTEN` (default 127.0.0.1:8080).

use axum::{Router, http::StatusCode, routing::get};
use tokend_client::{PropagateTxnLayer, TxnEdgeLayer};
use tonic::transport::Channel;
use tower::Layer;

mod chain {
    tonic::include_proto!("chain.v1");
}
use chain::{VisitRequest, hop_client::HopClient};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let setting = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let tokend_url = setting("TOKEND_URL", "http://127.0.0.1:50051");
    let tokend = Channel::from_shared(tokend_url.clone())?.connect_lazy();
    let edge = TxnEdgeLayer::new(
        tokend,
        setting("EDGE_CLIENT_ID", "edge"),
        std::env::var("EDGE_CLIENT_SECRET")?,
        setting("TXN_TRUST_DOMAIN", &tokend_url),
        setting("EDGE_SCOPE", "orders.read"),
    );
    let first = Channel::from_shared(setting("EDGE_FIRST_HOP", "http://127.0.0.1:50061"))?.connect_lazy();
    let hop = HopClient::new(PropagateTxnLayer.layer(first));
    let visit = get(move || {
        let mut hop = hop.clone();
        async move {
            // The edge's Transaction Token is current here: the call carries it.
            let reply = hop.visit(VisitRequest { purpose: "visit".into() }).await;
            let seen = reply
                .map_err(|status| (StatusCode::BAD_GATEWAY, status.message().to_owned()))?
                .into_inner()
                .seen;
            let seen: Vec<_> = seen
                .into_iter()
                .map(|s| serde_json::json!({"service": s.service, "txn": s.txn, "sub": s.sub, "req_wl": s.req_wl}))
                .collect();
            Ok::<_, (StatusCode, String)>(serde_json::Value::from(seen).to_string())
        }
    });
    let app = Router::new().route("/visit", visit).layer(edge);
    let listener = tokio::net::TcpListener::bind(setting("EDGE_LISTEN", "127.0.0.1:8080")).await?;
    println!("edge listening on {}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await?;
    Ok(())
}
