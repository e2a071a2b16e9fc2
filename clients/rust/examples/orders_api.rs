//! The resource-server half of the example: an "orders" gRPC API that accepts
//! only tokend tokens meant for it, checked locally against tokend's keys.
//!
//! ```sh
//! TOKEND_ISSUER=http://127.0.0.1:50051 cargo run -p tokend-client --example orders_api
//! ```
//! Settings: `TOKEND_ISSUER` (tokend's `--issuer`), `ORDERS_LISTEN`
//! (default 127.0.0.1:50052). Every call needs scope `orders.read`;
//! `PlaceOrder` also needs `orders.write`.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use tokend_client::{Claims, Verifier, VerifyLayer};
use tonic::{Request, Response, Status, transport::Server};

mod orders {
    tonic::include_proto!("orders.v1");
}
use orders::{
    GetOrderRequest, Order, PlaceOrderRequest,
    orders_server::{Orders, OrdersServer},
};

#[derive(Default)]
struct OrderBook {
    orders: Mutex<HashMap<String, Order>>,
}

#[tonic::async_trait]
impl Orders for OrderBook {
    async fn get_order(&self, request: Request<GetOrderRequest>) -> Result<Response<Order>, Status> {
        let id = request.into_inner().id;
        let orders = self.orders.lock().unwrap_or_else(PoisonError::into_inner);
        let order = orders.get(&id).cloned().ok_or_else(|| Status::not_found(format!("no order {id}")))?;
        Ok(Response::new(order))
    }

    async fn place_order(&self, request: Request<PlaceOrderRequest>) -> Result<Response<Order>, Status> {
        // The layer let the call in; this method asks for more.
        let claims =
            request.extensions().get::<Claims>().cloned().ok_or_else(|| Status::internal("no claims"))?;
        claims.require_scopes(&["orders.write"])?;
        let PlaceOrderRequest { item, quantity } = request.into_inner();
        let mut orders = self.orders.lock().unwrap_or_else(PoisonError::into_inner);
        let id = format!("order-{}", orders.len() + 1);
        let order = Order { id: id.clone(), item, quantity, placed_by: claims.client_id };
        orders.insert(id, order.clone());
        Ok(Response::new(order))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = std::env::var("TOKEND_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:50051".into());
    let listen = std::env::var("ORDERS_LISTEN").unwrap_or_else(|_| "127.0.0.1:50052".into());
    // Fetches tokend's keys now: a wrong issuer fails here, not on the first call.
    let verifier = Verifier::builder(issuer, "orders").discover().await?;
    let incoming = tonic::transport::server::TcpIncoming::bind(listen.parse()?)?;
    println!("orders API listening on {}", incoming.local_addr()?);
    Server::builder()
        .layer(VerifyLayer::new(verifier).require_scopes(["orders.read"]))
        .add_service(OrdersServer::new(OrderBook::default()))
        .serve_with_incoming_shutdown(incoming, async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await?;
    Ok(())
}
