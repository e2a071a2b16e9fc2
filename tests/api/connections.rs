//! Connections held open by peers that never finish a request are closed,
//! and the connection cap never locks out a real client for good.

use std::time::Duration;

use tokend::connections::ConnectionLimits;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::{Instant, timeout},
};
use tonic::transport::Channel;

use crate::helpers::*;

fn tight_limits() -> ConnectionLimits {
    ConnectionLimits {
        max_connections: 4,
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
    }
}

/// Reads until the server closes the connection; how long that took.
async fn time_until_closed(mut stream: TcpStream) -> Duration {
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    let read_to_end = async {
        while let Ok(read) = stream.read(&mut buffer).await {
            if read == 0 {
                break;
            }
        }
    };
    timeout(Duration::from_secs(20), read_to_end).await.expect("the server closes the connection");
    started.elapsed()
}

fn address(app: &TestApp) -> String {
    app.issuer().trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn connections_that_never_speak_are_closed_and_real_clients_get_in() {
    let app = TestApp::spawn_with_limits(tight_limits()).await;
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let mut silent = Vec::new();
    for _ in 0..tight_limits().max_connections {
        silent.push(TcpStream::connect(address(&app)).await.unwrap());
    }
    // Every slot is taken (or about to be): this client waits in the backlog
    // until the silent ones are closed, then gets its token.
    let channel = Channel::from_shared(app.issuer().to_owned()).unwrap().connect_lazy();
    let mut tokens = tokend::grpc::pb::token_service_client::TokenServiceClient::new(channel);
    let issued = timeout(Duration::from_secs(15), tokens.issue_token(token_request("svc", &secret, "")))
        .await
        .expect("the client is served once silent connections are closed")
        .expect("a token is issued");
    assert!(!issued.into_inner().access_token.is_empty());
    for stream in silent {
        assert!(time_until_closed(stream).await < Duration::from_secs(5));
    }
}

#[tokio::test]
async fn a_request_whose_headers_trickle_in_is_cut_off() {
    let app = TestApp::spawn_with_limits(tight_limits()).await;
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    stream.write_all(b"POST /oauth/v2/token HTTP/1.1\r\nHost: tokend\r\n").await.unwrap();
    let trickle = async {
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if stream.write_all(b"X-Slow: 1\r\n").await.is_err() {
                return;
            }
        }
    };
    timeout(Duration::from_secs(8), trickle).await.expect("the server stops reading a trickle");
}

#[tokio::test]
async fn a_keep_alive_connection_left_quiet_is_closed() {
    let app = TestApp::spawn_with_limits(tight_limits()).await;
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    stream
        .write_all(b"GET /oauth/v2/keys HTTP/1.1\r\nHost: tokend\r\nConnection: keep-alive\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(time_until_closed(stream).await < Duration::from_secs(5));
}
