//! One internal service of the example call chain of Transaction Tokens: a
//! `chain.v1.Hop` gRPC service that verifies the incoming `txn-token`
//! locally, says what it saw, and visits the next service with the same
//! token (sent on by `PropagateTxnLayer`, never by hand).
//!
//! ```sh
//! TOKEND_ISSUER=http://127.0.0.1:50051 HOP_NAME=orders HOP_LISTEN=127.0.0.1:50061 \
//!   HOP_NEXT=http://127.0.0.1:50062 cargo run -p tokend-client --example txn_hop
//! ```
//! Settings: `TOKEND_ISSUER`, `TXN_TRUST_DOMAIN` (default the issuer),
//! `HOP_NAME`, `HOP_LISTEN`, `HOP_NEXT` (none: the last service).

use tokend_client::{PropagateTxnLayer, TxnClaims, TxnTokenLayer, TxnVerifier};
use tonic::{Request, Response, Status, transport::Channel, transport::Server};
use tower::Layer;

mod chain {
    tonic::include_proto!("chain.v1");
}
use chain::{
    Seen, VisitReply, VisitRequest,
    hop_client::HopClient,
    hop_server::{Hop, HopServer},
};

struct Service {
    name: String,
    next: Option<HopClient<tokend_client::PropagateTxn<Channel>>>,
}

#[tonic::async_trait]
impl Hop for Service {
    async fn visit(&self, request: Request<VisitRequest>) -> Result<Response<VisitReply>, Status> {
        let claims =
            request.extensions().get::<TxnClaims>().cloned().ok_or_else(|| Status::internal("no claims"))?;
        let mut seen = vec![Seen {
            service: self.name.clone(),
            txn: claims.txn,
            sub: claims.sub,
            req_wl: claims.req_wl,
            scope: claims.scope,
        }];
        if let Some(next) = &self.next {
            seen.extend(next.clone().visit(request.into_inner()).await?.into_inner().seen);
        }
        Ok(Response::new(VisitReply { seen }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let setting = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let issuer = setting("TOKEND_ISSUER", "http://127.0.0.1:50051");
    let trust_domain = setting("TXN_TRUST_DOMAIN", &issuer);
    let verifier = TxnVerifier::discover(issuer, trust_domain).await?;
    let next = match std::env::var("HOP_NEXT") {
        Ok(url) => Some(HopClient::new(PropagateTxnLayer.layer(Channel::from_shared(url)?.connect_lazy()))),
        Err(_) => None,
    };
    let incoming =
        tonic::transport::server::TcpIncoming::bind(setting("HOP_LISTEN", "127.0.0.1:50061").parse()?)?;
    println!("hop listening on {}", incoming.local_addr()?);
    Server::builder()
        .layer(TxnTokenLayer::new(verifier))
        .add_service(HopServer::new(Service { name: setting("HOP_NAME", "hop"), next }))
        .serve_with_incoming_shutdown(incoming, async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await?;
    Ok(())
}
