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

    async fn reflection_quotes_a_long_unknown_name_cut_short(app) {
        use v1::{server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest};
        let mut client = ServerReflectionClient::new(app.channel.clone());
        let name = format!("{}.proto", "x".repeat(5_000));
        let request = v1::ServerReflectionRequest { host: String::new(), message_request: Some(MessageRequest::FileByFilename(name)) };
        let mut responses = client.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
        let status = responses.next().await.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::NotFound);
        assert!(status.message().len() < 120, "{} characters: {}", status.message().len(), status.message());
        assert!(status.message().contains("5006 bytes in all"), "{}", status.message());
    }

    async fn shutdown_lets_the_server_return_cleanly(app) {
        let mut app = app;
        app.stop().await;
        let mut health = HealthClient::new(app.channel.clone());
        assert!(health.check(HealthCheckRequest { service: String::new() }).await.is_err());
    }
}

/// Where tonic alone would answer differently from the gRPC spec.
mod grpc_spec {
    use std::time::Duration;

    use tonic::Code;

    use crate::support::helpers::*;

    #[tokio::test]
    async fn a_call_past_its_own_grpc_timeout_is_deadline_exceeded() {
        let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
        let secret = app.create_client("svc", "read", "read", &[]).await;
        // tonic's client enforces grpc-timeout itself, so the call is made by
        // hand. A cold credential check runs argon2, far longer than a millisecond.
        let message = prost::Message::encode_to_vec(&token_request("svc", &secret, ""));
        let mut frame = vec![0u8];
        frame.extend((message.len() as u32).to_be_bytes());
        frame.extend(message);
        let http = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
        let response = http
            .post(app.url("/tokend.v1.TokenService/IssueToken"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header("grpc-timeout", "1m")
            .body(frame)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        let status = tonic::Status::from_header_map(response.headers()).expect("a trailers-only answer");
        assert_error(&status, Code::DeadlineExceeded, "deadline_exceeded");
    }

    /// Sends `message` as one gRPC frame to `path`, by hand: tonic's client
    /// would not send bytes that are not a message.
    async fn raw_call(app: &TestApp, path: &str, message: &[u8]) -> tonic::Status {
        let mut frame = vec![0u8];
        frame.extend((message.len() as u32).to_be_bytes());
        frame.extend(message);
        let http = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
        let response = http
            .post(app.url(path))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(frame)
            .send()
            .await
            .unwrap();
        tonic::Status::from_header_map(response.headers()).expect("a trailers-only answer")
    }

    #[tokio::test]
    async fn a_message_that_does_not_decode_is_invalid_argument_not_internal() {
        let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
        let status = raw_call(&app, "/tokend.v1.TokenService/Introspect", &[0xff, 0xff, 0xff]).await;
        assert_error(&status, Code::InvalidArgument, "invalid_argument");
        assert!(status.message().contains("not valid protobuf"), "{status:?}");
        // A CreateClientRequest whose claims (field 18, a Struct) hold one
        // `fields` entry of two bytes that are no map entry.
        let mut request = prost::Message::encode_to_vec(&tokend::contract::pb::CreateClientRequest {
            client_id: "svc".into(),
            ..Default::default()
        });
        request.extend([0x92, 0x01, 4, 0x0a, 0x02, 0xff, 0xff]);
        let status = raw_call(&app, "/tokend.v1.ClientAdmin/CreateClient", &request).await;
        assert_error(&status, Code::InvalidArgument, "invalid_argument");
    }

    #[tokio::test]
    async fn a_message_over_the_size_limit_is_resource_exhausted() {
        let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
        let huge = "s".repeat(100 * 1024);
        let status = app.tokens.clone().issue_token(token_request("svc", "x", &huge)).await.unwrap_err();
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    }

    #[tokio::test]
    async fn grpc_encodings_tokend_does_not_speak_are_refused_with_415() {
        let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
        let http = reqwest::Client::new();
        for content_type in [
            "application/grpcx",
            "application/grpc+json",
            "application/grpc-web",
            "application/grpc-web-text",
        ] {
            let response = http
                .post(app.url("/tokend.v1.TokenService/IssueToken"))
                .header("content-type", content_type)
                .body(vec![0u8, 0, 0, 0, 0])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 415, "{content_type}");
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"], "invalid_request", "{content_type}");
        }
    }
}
