//! TokenSource without a secret: a private key that signs a fresh assertion
//! per fetch (private_key_jwt), and a platform's token read from a file on
//! every fetch (workload identity federation), against a live tokend.

use jsonwebtoken::{EncodingKey, Header, jwk::Jwk};
use serde_json::json;
use tokend::{
    authority::{Actor, AuthDraft, ClientDraft, IdentityDraft},
    domain::IssuerDraft,
};
use tokend_client::{Algorithm, PrivateKey, TokenSource};

use crate::server::{claims, jti, now, server};

/// A P-256 key in PKCS#8 PEM and its public JWK named `kid`.
fn key_pair(kid: &str) -> (String, serde_json::Value) {
    let pem = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap().serialize_pem();
    let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
    let mut jwk = serde_json::to_value(Jwk::from_encoding_key(&encoding, Algorithm::ES256).unwrap()).unwrap();
    jwk["kid"] = json!(kid);
    (pem, jwk)
}

#[tokio::test]
async fn a_private_key_gets_tokens_with_a_fresh_assertion_each_time() {
    let server = server().await;
    let (pem, jwk) = key_pair("signer-1");
    let draft = ClientDraft {
        client_id: "orders-signer".into(),
        allowed_scopes: vec!["orders.read".into(), "orders.write".into()],
        auth: AuthDraft {
            methods: vec!["private_key_jwt".into()],
            jwks: json!({ "keys": [jwk] }).to_string(),
            ..AuthDraft::default()
        },
        ..ClientDraft::default()
    };
    let (_, secret) = server.authority.registry().create(draft, &Actor::cli()).await.unwrap();
    assert!(secret.is_none());

    let key = PrivateKey { pem, kid: "signer-1".into(), algorithm: Algorithm::ES256 };
    let source =
        TokenSource::with_private_key(server.channel.clone(), "orders-signer", &key, &server.issuer).unwrap();
    // Two scopes, two fetches: each signs its own assertion, so neither is a replay.
    let read = source.token("orders.read", &[]).await.unwrap();
    let write = source.token("orders.write", &[]).await.unwrap();
    assert_ne!(jti(&read.access_token), jti(&write.access_token));

    let wrong = PrivateKey { kid: "signer-2".into(), ..key };
    let source =
        TokenSource::with_private_key(server.channel.clone(), "orders-signer", &wrong, &server.issuer)
            .unwrap();
    let error = source.token("", &[]).await.unwrap_err();
    assert_eq!(error.oauth_error.as_deref(), Some("invalid_client"));
}

#[tokio::test]
async fn a_platform_token_in_a_file_is_read_again_for_every_fetch() {
    let server = server().await;
    let (pem, jwk) = key_pair("cluster");
    let cluster = "https://kubernetes.default.svc";
    let issuer = IssuerDraft {
        issuer: cluster.into(),
        jwks: json!({ "keys": [jwk] }).to_string(),
        ..IssuerDraft::default()
    };
    server.authority.registry().add_trusted_issuer(issuer, &Actor::cli()).await.unwrap();
    let identity = IdentityDraft {
        issuer: cluster.into(),
        subject: "system:serviceaccount:orders:*".into(),
        ..IdentityDraft::default()
    };
    let draft = ClientDraft {
        client_id: "orders-pod".into(),
        allowed_scopes: vec!["orders.read".into(), "orders.write".into()],
        auth: AuthDraft { federated: vec![identity], ..AuthDraft::default() },
        ..ClientDraft::default()
    };
    server.authority.registry().create(draft, &Actor::cli()).await.unwrap();

    let now = now();
    let sign = |name: &str| {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("cluster".into());
        let claims = json!({
            "iss": cluster, "sub": format!("system:serviceaccount:orders:{name}"),
            "aud": [server.issuer.as_str()], "iat": now, "exp": now + 600,
        });
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_pem(pem.as_bytes()).unwrap()).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, sign("worker")).unwrap();
    let source = TokenSource::with_assertion_file(server.channel.clone(), "orders-pod", &path);
    let token = source.token("orders.read", &[]).await.unwrap();
    assert_eq!(claims(&token.access_token)["federated"]["sub"], "system:serviceaccount:orders:worker");

    // The kubelet rewrites the file; the next fetch sends the new token.
    std::fs::write(&path, sign("indexer")).unwrap();
    let token = source.token("orders.write", &[]).await.unwrap();
    assert_eq!(claims(&token.access_token)["federated"]["sub"], "system:serviceaccount:orders:indexer");

    std::fs::remove_file(&path).unwrap();
    let error = source.token("", &["orders"]).await.unwrap_err();
    assert!(error.message.contains("cannot read the assertion"), "{}", error.message);
}
