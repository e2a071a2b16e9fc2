//! TokenSource against a real tokend, started in-process on a fresh SQLite database.

use std::sync::Arc;

use tokend::{
    authority::{Authority, ClientDraft, Settings, SigningAlgorithm},
    domain::Audience,
    server::{self, Listeners},
    store::Store,
};
use tokend_client::TokenSource;
use tonic::transport::Channel;

struct Server {
    channel: Channel,
    secret: String,
    _dir: tempfile::TempDir,
}

/// A server with one client, "orders-worker", allowed `read write`, default `read`.
async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let settings = Settings {
        issuer: format!("http://{address}"),
        default_audience: Audience::parse("tokend").unwrap(),
        algorithm: SigningAlgorithm::Es256,
    };
    let authority = Arc::new(Authority::start(store, settings).await.unwrap());
    let draft = ClientDraft {
        client_id: "orders-worker".into(),
        allowed_scopes: vec!["read".into(), "write".into()],
        default_scopes: vec!["read".into()],
        ..Default::default()
    };
    let (_, secret) = authority.registry().create(draft).await.unwrap();
    tokio::spawn(server::serve(Listeners { main: listener, http: None }, authority, std::future::pending()));
    let channel = Channel::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap();
    Server { channel, secret: secret.expose().to_owned(), _dir: dir }
}

impl Server {
    /// A source for the server's one client, with its real secret.
    fn source(&self) -> TokenSource {
        TokenSource::new(self.channel.clone(), "orders-worker", &self.secret)
    }
}

fn jti(token: &str) -> String {
    use base64::Engine;
    let claims = token.split('.').nth(1).unwrap();
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap();
    serde_json::from_slice::<serde_json::Value>(&claims).unwrap()["jti"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_fresh_token_is_served_from_the_cache() {
    let server = server().await;
    let source = server.source();
    let first = source.token("", &[]).await.unwrap();
    let second = source.token("", &[]).await.unwrap();
    assert_eq!(jti(&first.access_token), jti(&second.access_token));
    assert_eq!(first.scope, "read");
}

#[tokio::test]
async fn a_thousand_callers_on_an_empty_cache_share_one_call() {
    let server = server().await;
    let source = server.source();
    let callers: Vec<_> = (0..1000)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.token("write", &[]).await.unwrap().access_token })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for caller in callers {
        ids.insert(jti(&caller.await.unwrap()));
    }
    assert_eq!(ids.len(), 1, "one token was issued for all of them");
}

#[tokio::test]
async fn each_scope_gets_its_own_token() {
    let server = server().await;
    let source = server.source();
    let read = source.token("read", &[]).await.unwrap();
    let write = source.token("write", &[]).await.unwrap();
    assert_eq!((read.scope.as_str(), write.scope.as_str()), ("read", "write"));
    assert_ne!(jti(&read.access_token), jti(&write.access_token));
}

#[tokio::test]
async fn a_wrong_secret_surfaces_invalid_client_and_is_not_retried() {
    let server = server().await;
    let source = TokenSource::new(server.channel.clone(), "orders-worker", "wrong");
    let error = source.token("", &[]).await.unwrap_err();
    assert_eq!(error.oauth_error.as_deref(), Some("invalid_client"));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_scope_outside_the_clients_is_invalid_scope() {
    let server = server().await;
    let source = server.source();
    let error = source.token("admin", &[]).await.unwrap_err();
    assert_eq!(error.oauth_error.as_deref(), Some("invalid_scope"));
}

#[tokio::test]
async fn a_token_near_its_end_is_refreshed_in_the_background() {
    let server = server().await;
    // Tokens live an hour; asking for refreshes 59 minutes ahead puts every
    // token in its refresh window at once.
    let source = server.source().refresh_ahead(std::time::Duration::from_secs(59 * 60));
    let first = source.token("", &[]).await.unwrap();
    let served_while_refreshing = source.token("", &[]).await.unwrap();
    assert_eq!(jti(&first.access_token), jti(&served_while_refreshing.access_token));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let current = source.token("", &[]).await.unwrap();
        if jti(&current.access_token) != jti(&first.access_token) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no refreshed token within 5 s");
        tokio::task::yield_now().await;
    }
}
