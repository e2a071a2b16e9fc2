//! Serving: the gRPC services, health and reflection on an already-bound
//! listener, until a shutdown future completes.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::{net::TcpListener, sync::watch};
use tonic::transport::{Server, server::TcpIncoming};
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    authority::Authority,
    grpc::{
        ClientAdminService, TokenServiceImpl,
        pb::{
            self, client_admin_server::ClientAdminServer, token_service_server::TokenServiceServer,
        },
    },
};

/// Token requests are a few hundred bytes; anything much larger is abuse.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Covers a queue for argon2 under load; a call still running then is cut off.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const HEALTH_INTERVAL: Duration = Duration::from_secs(5);
/// How long calls in flight may take to finish after shutdown is asked for;
/// a client that keeps its connection open cannot hold the process past it.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves until `shutdown` completes, then stops accepting and drains the
/// calls in flight for at most [`DRAIN_TIMEOUT`]. The caller binds the
/// listener, so tests can use port 0.
pub async fn serve(
    listener: TcpListener,
    authority: Arc<Authority>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let (stop_health, health_stopped) = watch::channel(());
    let health = tokio::spawn(report_health(
        authority.clone(),
        health_reporter,
        health_stopped,
    ));

    let tokens = TokenServiceServer::new(TokenServiceImpl::new(authority.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let admin = ClientAdminServer::new(ClientAdminService::new(authority))
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let (draining, drain_started) = watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        let _ = draining.send(true);
    };
    let drain_deadline = async move {
        let mut started = drain_started;
        let _ = started.wait_for(|started| *started).await;
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    let serving = Server::builder()
        .timeout(REQUEST_TIMEOUT)
        .add_service(health_service)
        .add_service(
            reflection()
                .build_v1()
                .expect("the embedded descriptors are valid"),
        )
        .add_service(
            reflection()
                .build_v1alpha()
                .expect("the embedded descriptors are valid"),
        )
        .add_service(tokens)
        .add_service(admin)
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        );
    let served = tokio::select! {
        served = serving => served,
        _ = drain_deadline => {
            tracing::warn!("calls still open after {DRAIN_TIMEOUT:?}; stopping anyway");
            Ok(())
        }
    };
    drop(stop_health);
    let _ = health.await;
    served
}

/// Reflection over tokend's contract, the health service and google.rpc's error
/// details (so grpcurl can show ErrorInfo), in both the v1
/// and the v1alpha protocol (grpcurl before 1.8.8, Postman and evans speak only v1alpha).
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
}

/// Keeps the overall ("") health status in step with whether the store answers.
async fn report_health(
    authority: Arc<Authority>,
    reporter: HealthReporter,
    mut stopped: watch::Receiver<()>,
) {
    loop {
        let status = if authority.ready().await {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        reporter.set_service_status("", status).await;
        tokio::select! {
            _ = tokio::time::sleep(HEALTH_INTERVAL) => {}
            _ = stopped.changed() => return,
        }
    }
}
