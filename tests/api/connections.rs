//! Connections held open by peers that never finish a request are closed,
//! and the connection cap never locks out a real client for good: one
//! address holds its share only, and the longest idle make room.

use std::{net::IpAddr, time::Duration};

use tokend::edge::connections::ConnectionLimits;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    time::{Instant, timeout},
};
use tonic::transport::Channel;

use crate::support::helpers::*;

fn tight_limits() -> ConnectionLimits {
    ConnectionLimits {
        max_connections: 4,
        max_per_address: 0,
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

/// Limits under which a connection that spoke once stays open for minutes.
fn patient_limits(max_per_address: usize) -> ConnectionLimits {
    ConnectionLimits {
        max_connections: 4,
        max_per_address,
        header_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(120),
    }
}

/// A TCP connection to `app` from the loopback address `from`.
async fn connect_from(app: &TestApp, from: IpAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind((from, 0).into())?;
    socket.connect(address(app).parse().unwrap()).await
}

/// Whether `app` issues `id` a token over a new connection from `from` within a second.
async fn served_within_a_second(app: &TestApp, from: IpAddr, id: &str, secret: &str) -> bool {
    let endpoint = Channel::from_shared(app.issuer().to_owned()).unwrap().local_address(Some(from));
    let call = async {
        let channel = endpoint.connect().await.ok()?;
        let mut tokens = tokend::contract::pb::token_service_client::TokenServiceClient::new(channel);
        tokens.issue_token(token_request(id, secret, "")).await.ok()
    };
    matches!(timeout(Duration::from_secs(1), call).await, Ok(Some(_)))
}

const HOLDER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
const NEWCOMER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 3));

#[tokio::test]
async fn at_the_cap_the_connection_idle_longest_makes_room() {
    // No per-address share, as behind a proxy: the cap alone must let the newcomer in.
    let app = TestApp::spawn_with_limits(patient_limits(0)).await;
    let secret = app.create_client("svc", "read", "read", &[]).await;
    // The test's own channel holds the fourth slot; these three idle between requests.
    let mut holders = Vec::new();
    for _ in 0..3 {
        let mut holder = connect_from(&app, HOLDER).await.unwrap();
        holder.write_all(b"GET /healthz HTTP/1.1\r\nHost: tokend\r\n\r\n").await.unwrap();
        let mut status = [0u8; 12];
        holder.read_exact(&mut status).await.unwrap();
        assert_eq!(&status, b"HTTP/1.1 200");
        holders.push(holder);
    }
    app.token("svc", &secret, "").await;
    assert!(
        served_within_a_second(&app, NEWCOMER, "svc", &secret).await,
        "the newcomer waited behind idle holders"
    );
    let first = holders.remove(0);
    assert!(time_until_closed(first).await < Duration::from_secs(1), "the holder idle longest made room");
}

#[tokio::test]
async fn one_address_holds_its_share_and_others_get_in() {
    let app = TestApp::spawn_with_limits(patient_limits(2)).await;
    let secret = app.create_client("svc", "read", "read", &[]).await;
    // Each holder keeps a call in flight, a form that never ends, so none is idle;
    // with the test's own channel they would fill every slot.
    let mut holders = Vec::new();
    for _ in 0..3 {
        let mut holder = connect_from(&app, HOLDER).await.unwrap();
        let started = b"POST /oauth/v2/token HTTP/1.1\r\nHost: tokend\r\n\
            Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=";
        let _ = holder.write_all(started).await;
        holders.push(holder);
    }
    assert!(
        served_within_a_second(&app, NEWCOMER, "svc", &secret).await,
        "the newcomer waited behind one address"
    );
    let past_share = holders.pop().unwrap();
    assert!(
        time_until_closed(past_share).await < Duration::from_secs(1),
        "a connection past the share stays open"
    );
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
    let mut tokens = tokend::contract::pb::token_service_client::TokenServiceClient::new(channel);
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
