//! Transaction Tokens through a real call chain: an HTTP edge (axum behind
//! TxnEdgeLayer) exchanges the caller's access token once, then two gRPC
//! services (tonic behind TxnTokenLayer, calling on through
//! PropagateTxnLayer) each verify the same token locally; forged, expired,
//! foreign and mistyped ones are refused at the hop.

use axum::{Router, routing::get};
use tokend::authority::{Actor, ClientDraft};
use tokend_client::{PropagateTxnLayer, TxnClaims, TxnEdgeLayer, TxnToken, TxnTokenLayer, TxnVerifier};
use tonic::{
    Code, Request, Response, Status,
    transport::{Channel, server::TcpIncoming},
};
use tower::Layer;

use crate::server::{Server, claims, now, server};

mod chain {
    tonic::include_proto!("chain.v1");
}
use chain::{
    Seen, VisitReply, VisitRequest,
    hop_client::HopClient,
    hop_server::{Hop, HopServer},
};

/// One service of the chain: says what it saw, then visits `next`, if any, with the current token.
struct Service {
    name: &'static str,
    next: Option<String>,
}

#[tonic::async_trait]
impl Hop for Service {
    async fn visit(&self, request: Request<VisitRequest>) -> Result<Response<VisitReply>, Status> {
        let claims =
            request.extensions().get::<TxnClaims>().cloned().ok_or_else(|| Status::internal("no claims"))?;
        let mut seen = vec![seen(self.name, &claims)];
        if let Some(next) = &self.next {
            seen.extend(visit(next, None).await?.seen);
        }
        Ok(Response::new(VisitReply { seen }))
    }
}

fn seen(service: &str, claims: &TxnClaims) -> Seen {
    Seen {
        service: service.into(),
        txn: claims.txn.clone(),
        sub: claims.sub.clone(),
        req_wl: claims.req_wl.clone(),
        scope: claims.scope.clone(),
    }
}

/// Visits the service at `address` through a channel that propagates the
/// current Txn-Token, or that sends `token` instead when given.
async fn visit(address: &str, token: Option<&str>) -> Result<VisitReply, Status> {
    let channel = Channel::from_shared(address.to_owned()).unwrap().connect().await.unwrap();
    let mut request = Request::new(VisitRequest { purpose: "buy".into() });
    if let Some(token) = token {
        request.metadata_mut().insert("txn-token", token.parse().unwrap());
    }
    Ok(HopClient::new(PropagateTxnLayer.layer(channel)).visit(request).await?.into_inner())
}

/// Serves `service` behind a TxnTokenLayer for `trust_domain`; its address.
async fn hop(server: &Server, trust_domain: &str, service: Service) -> String {
    let verifier = TxnVerifier::discover(&server.issuer, trust_domain).await.unwrap();
    let incoming = TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = incoming.local_addr().unwrap();
    let guarded = tonic::transport::Server::builder()
        .layer(TxnTokenLayer::new(verifier).require_scopes(["orders.read"]))
        .add_service(HopServer::new(service));
    tokio::spawn(guarded.serve_with_incoming(incoming));
    format!("http://{address}")
}

/// Registers "edge" as a Transaction Token requester; its secret.
async fn edge_client(server: &Server) -> String {
    let draft = ClientDraft { client_id: "edge".into(), txn_token_requester: true, ..ClientDraft::default() };
    let (_, secret) = server.authority.registry().create(draft, &Actor::cli()).await.unwrap();
    secret.unwrap().expose().to_owned()
}

/// The HTTP edge: exchanges the caller's token, then visits `first` with the Txn-Token current.
async fn edge(server: &Server, first: String) -> String {
    let layer = TxnEdgeLayer::new(
        server.channel.clone(),
        "edge",
        edge_client(server).await,
        &server.issuer,
        "orders.read",
    );
    let route = get(move || {
        let first = first.clone();
        async move {
            let current = TxnToken::current().expect("the edge made the token current");
            let reply = visit(&first, None).await.map_err(|status| status.message().to_owned());
            let seen = reply.map(|reply| {
                reply.seen.into_iter().map(|s| (s.service, s.txn, s.sub, s.req_wl)).collect::<Vec<_>>()
            });
            serde_json::json!({ "edge": current.claims.txn, "seen": seen }).to_string()
        }
    });
    let app = Router::new().route("/buy", route).layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/buy")
}

/// How many Transaction Tokens tokend has issued to "edge", from its metrics.
async fn txn_tokens_issued(server: &Server) -> f64 {
    let text = reqwest::get(format!("{}/metrics", server.issuer)).await.unwrap().text().await.unwrap();
    let wanted = r#"tokend_tokens_issued_total{client_id="edge",protocol="grpc",token_type="txn_token"}"#;
    text.lines().find_map(|line| line.strip_prefix(wanted)).map_or(0.0, |value| value.trim().parse().unwrap())
}

#[tokio::test]
async fn one_exchange_at_the_edge_carries_one_transaction_through_every_hop() {
    let server = server().await;
    let ledger = hop(&server, &server.issuer, Service { name: "ledger", next: None }).await;
    let payments =
        hop(&server, &server.issuer, Service { name: "payments", next: Some(ledger.clone()) }).await;
    let edge = edge(&server, payments.clone()).await;
    let token = server.source().token("orders.read", &["orders"]).await.unwrap().access_token;

    let answer: serde_json::Value =
        reqwest::Client::new().get(&edge).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let txn = answer["edge"].as_str().unwrap();
    let seen = answer["seen"]["Ok"].as_array().unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(seen.len(), 2);
    for (hop, name) in seen.iter().zip(["payments", "ledger"]) {
        assert_eq!(
            hop,
            &serde_json::json!([name, txn, "orders-worker", "edge"]),
            "every hop sees one transaction"
        );
    }
    assert_eq!(txn_tokens_issued(&server).await, 1.0, "one Txn-Token for the whole chain");

    // No access token, no transaction: the edge refuses, and asks tokend for nothing.
    let refused = reqwest::Client::new().get(&edge).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(txn_tokens_issued(&server).await, 1.0);
}

#[tokio::test]
async fn a_hop_refuses_forged_expired_foreign_and_mistyped_tokens() {
    let server = server().await;
    let payments = hop(&server, &server.issuer, Service { name: "payments", next: None }).await;
    let foreign =
        hop(&server, "https://another-domain.example", Service { name: "foreign", next: None }).await;
    let good = serde_json::json!({
        "iss": server.issuer, "iat": now(), "aud": server.issuer, "exp": now() + 300, "txn": "t-1",
        "sub": "orders-worker", "scope": "orders.read", "req_wl": "edge",
    });
    let signed = server.sign("txntoken+jwt", good.clone()).await;
    assert_eq!(visit(&payments, Some(&signed)).await.unwrap().seen[0].txn, "t-1", "a good one passes");

    let expired = server.sign("txntoken+jwt", with(&good, serde_json::json!({ "exp": now() - 60 }))).await;
    let narrow =
        server.sign("txntoken+jwt", with(&good, serde_json::json!({ "scope": "orders.write" }))).await;
    let access_token = server.source().token("orders.read", &["orders"]).await.unwrap().access_token;
    let parts: Vec<&str> = signed.split('.').collect();
    let widened = with(&good, serde_json::json!({ "sub": "someone-else" }));
    let forged = format!("{}.{}.{}", parts[0], base64url(&widened), parts[2]);
    let cases = [
        (&payments, expired.as_str(), Code::Unauthenticated, "token expired"),
        (&payments, forged.as_str(), Code::Unauthenticated, "bad signature"),
        (&payments, access_token.as_str(), Code::Unauthenticated, "not a Transaction Token (typ)"),
        (&payments, narrow.as_str(), Code::PermissionDenied, "orders.read"),
        (&foreign, signed.as_str(), Code::Unauthenticated, "token is for another audience"),
    ];
    for (address, token, code, reason) in cases {
        let status = visit(address, Some(token)).await.unwrap_err();
        assert_eq!(status.code(), code, "{reason}: {status:?}");
        assert!(status.message().contains(reason), "{reason}: {}", status.message());
    }
    let missing = visit(&payments, None).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    assert_eq!(claims(&signed)["txn"], "t-1");
}

/// `value` with the members of `changes` set.
fn with(value: &serde_json::Value, changes: serde_json::Value) -> serde_json::Value {
    let mut changed = value.clone();
    for (name, member) in changes.as_object().unwrap() {
        changed[name] = member.clone();
    }
    changed
}

fn base64url(value: &serde_json::Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}
