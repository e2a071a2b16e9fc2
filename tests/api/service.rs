//! The serving surface: health, reflection, graceful shutdown.

use tokio_stream::StreamExt;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::{v1, v1alpha};

on_both_stores! {
    async fn health_reports_serving_while_the_store_answers(app) {
        let mut health = HealthClient::new(app.channel.clone());
        let answer = health.check(HealthCheckRequest { service: String::new() }).await.unwrap().into_inner();
        assert_eq!(answer.status(), ServingStatus::Serving);
    }

    async fn reflection_v1_lists_the_services(app) {
        use v1::{server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest, server_reflection_response::MessageResponse};
        let mut client = ServerReflectionClient::new(app.channel.clone());
        let request = v1::ServerReflectionRequest { host: String::new(), message_request: Some(MessageRequest::ListServices(String::new())) };
        let mut responses = client.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
        let Some(MessageResponse::ListServicesResponse(list)) = responses.next().await.unwrap().unwrap().message_response else {
            panic!("not a service list");
        };
        let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
        for expected in ["tokend.v1.TokenService", "tokend.v1.ClientAdmin", "grpc.health.v1.Health"] {
            assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
        }
    }

    async fn reflection_v1alpha_describes_the_contract(app) {
        use v1alpha::{server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest, server_reflection_response::MessageResponse};
        let mut client = ServerReflectionClient::new(app.channel.clone());
        let request = v1alpha::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol("tokend.v1.TokenService".into())),
        };
        let mut responses = client.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
        let Some(MessageResponse::FileDescriptorResponse(files)) = responses.next().await.unwrap().unwrap().message_response else {
            panic!("no file descriptor");
        };
        assert!(!files.file_descriptor_proto.is_empty());
    }

    async fn shutdown_lets_the_server_return_cleanly(app) {
        let mut app = app;
        app.stop().await;
        let mut health = HealthClient::new(app.channel.clone());
        assert!(health.check(HealthCheckRequest { service: String::new() }).await.is_err());
    }
}
