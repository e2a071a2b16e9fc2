//! The caller half of the example: a worker that places and reads orders with
//! tokens from tokend, fetched once and reused until shortly before expiry.
//!
//! ```sh
//! TOKEND_CLIENT_ID=orders-worker TOKEND_CLIENT_SECRET=… \
//!   cargo run -p tokend-client --example orders_worker
//! ```
//! Settings: `TOKEND_URL` (default http://127.0.0.1:50051), `ORDERS_URL`
//! (default http://127.0.0.1:50052), `TOKEND_CLIENT_ID`, `TOKEND_CLIENT_SECRET`.
//! The client needs scopes `orders.read orders.write` and audience `orders`.

use tokend_client::{BearerLayer, TokenSource};
use tonic::{Code, transport::Channel};
use tower::Layer;

mod orders {
    tonic::include_proto!("orders.v1");
}
use orders::{GetOrderRequest, PlaceOrderRequest, orders_client::OrdersClient};

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tokend = Channel::from_shared(setting("TOKEND_URL", "http://127.0.0.1:50051"))?.connect_lazy();
    let source =
        TokenSource::new(tokend, std::env::var("TOKEND_CLIENT_ID")?, std::env::var("TOKEND_CLIENT_SECRET")?);
    let orders_channel =
        Channel::from_shared(setting("ORDERS_URL", "http://127.0.0.1:50052"))?.connect().await?;

    // Every call on this client carries a cached `orders.read orders.write` token.
    let writer = BearerLayer::new(source.clone(), "orders.read orders.write", ["orders"]);
    let mut orders = OrdersClient::new(writer.layer(orders_channel.clone()));
    for (item, quantity) in [("paper", 500), ("toner", 2), ("stapler", 1)] {
        let placed =
            orders.place_order(PlaceOrderRequest { item: item.into(), quantity }).await?.into_inner();
        println!("placed {} ({} × {}) as {}", placed.id, placed.quantity, placed.item, placed.placed_by);
    }
    let order = orders.get_order(GetOrderRequest { id: "order-1".into() }).await?.into_inner();
    println!("read back {}: {} × {}", order.id, order.quantity, order.item);

    // A read-only token may read but not place orders.
    let reader = BearerLayer::new(source, "orders.read", ["orders"]);
    let mut read_only = OrdersClient::new(reader.layer(orders_channel));
    match read_only.place_order(PlaceOrderRequest { item: "pens".into(), quantity: 10 }).await {
        Err(status) if status.code() == Code::PermissionDenied => {
            println!("read-only token refused as expected: {}", status.message());
            Ok(())
        }
        other => Err(format!("a read-only token should be refused, got {other:?}").into()),
    }
}
