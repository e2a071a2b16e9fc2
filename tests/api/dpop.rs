//! DPoP at the token endpoint (RFC 9449): a proof made with a real key binds
//! the token to that key, over HTTP and gRPC; each rule of §4.3 refuses a
//! proof that breaks it; clients may be required to send one; nonces; and
//! token exchange keeps the binding.

use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokend::{
    authority::{AuthDraft, ClientDraft, DpopSettings},
    contract::pb,
};
use tonic::metadata::MetadataValue;

use crate::support::{dpop::DpopKey, helpers::*};

const BODY: &str = "grant_type=client_credentials&client_id=svc&client_secret=";

fn token_url(app: &TestApp) -> String {
    app.url("/oauth/v2/token")
}

/// `POST /oauth/v2/token` for "svc" with `proofs` as `DPoP` headers; status and JSON body.
async fn token_with(
    app: &TestApp,
    secret: &str,
    proofs: &[String],
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut request = reqwest::Client::new()
        .post(token_url(app))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("{BODY}{secret}"));
    for proof in proofs {
        request = request.header("DPoP", proof);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, response.json().await.unwrap(), headers)
}

async fn refused_with(app: &TestApp, secret: &str, proofs: &[String], error: &str, says: &str) {
    let (status, body, _) = token_with(app, secret, proofs).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some(error)), "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains(says), "{description:?} should say {says:?}");
}

fn grpc_issue(secret: &str, proof: Option<&str>) -> tonic::Request<pb::IssueTokenRequest> {
    let mut request = tonic::Request::new(token_request("svc", secret, ""));
    if let Some(proof) = proof {
        request.metadata_mut().insert("dpop", MetadataValue::try_from(proof).unwrap());
    }
    request
}

on_both_stores! {
    async fn a_proof_binds_the_token_to_its_key_over_http_and_grpc(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        for algorithm in [Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256] {
            let key = DpopKey::generate(algorithm);
            let (status, body, _) = token_with(&app, &secret, &[key.proof(&token_url(&app))]).await;
            assert_eq!((status, body["token_type"].as_str()), (StatusCode::OK, Some("DPoP")), "{algorithm:?}: {body}");
            let token = body["access_token"].as_str().unwrap();
            assert_eq!(claims(token)["cnf"], json!({ "jkt": key.jkt() }), "{algorithm:?}");

            let gateway = app.create_client(&format!("gw-{algorithm:?}").to_lowercase(), "tokend.introspect", "", &[]).await;
            let introspected: Value = reqwest::Client::new()
                .post(app.url("/oauth/v2/introspect"))
                .basic_auth(format!("gw-{algorithm:?}").to_lowercase(), Some(&gateway))
                .form(&[("token", token)])
                .send().await.unwrap().json().await.unwrap();
            assert_eq!((introspected["token_type"].as_str(), &introspected["cnf"]["jkt"]), (Some("DPoP"), &json!(key.jkt())));
        }

        let key = DpopKey::generate(Algorithm::ES256);
        let htu = app.url("/tokend.v1.TokenService/IssueToken");
        let issued = app.tokens.clone().issue_token(grpc_issue(&secret, Some(&key.proof(&htu)))).await.unwrap().into_inner();
        assert_eq!(issued.token_type, "DPoP");
        let ask = pb::IntrospectRequest { token: issued.access_token, token_type_hint: String::new(), signed_response: false };
        let introspected = app.tokens.clone().introspect(with_basic(ask, "svc", &secret)).await.unwrap().into_inner();
        assert_eq!((introspected.token_type.as_str(), introspected.cnf.unwrap().jkt), ("DPoP", key.jkt()));

        let plain = app.tokens.clone().issue_token(grpc_issue(&secret, None)).await.unwrap().into_inner();
        assert_eq!(plain.token_type, "Bearer", "no proof, no binding");
        assert!(claims(&plain.access_token).get("cnf").is_none());
    }

    async fn a_client_registered_dpop_bound_must_send_a_proof(app) {
        let draft = ClientDraft {
            client_id: "svc".into(),
            allowed_scopes: vec!["read".into()],
            auth: AuthDraft { methods: vec!["client_secret_basic".into(), "client_secret_post".into()], dpop_bound: true, ..AuthDraft::default() },
            ..ClientDraft::default()
        };
        let (details, secret) = app.registry.create(draft, &Actor::cli()).await.unwrap();
        assert!(details.client.auth.dpop_bound);
        let secret = secret.unwrap().expose().to_owned();
        refused_with(&app, &secret, &[], "invalid_dpop_proof", "a DPoP proof is required").await;
        let refused = app.tokens.clone().issue_token(grpc_issue(&secret, None)).await.unwrap_err();
        assert_error(&refused, tonic::Code::InvalidArgument, "invalid_dpop_proof");
        let key = DpopKey::generate(Algorithm::ES256);
        let (status, body, _) = token_with(&app, &secret, &[key.proof(&token_url(&app))]).await;
        assert_eq!((status, body["token_type"].as_str()), (StatusCode::OK, Some("DPoP")));
    }

    async fn every_rule_of_a_proof_refuses_a_proof_that_breaks_it_over_grpc_too(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let key = DpopKey::generate(Algorithm::ES256);
        for (proof, says) in broken_proofs(&key, &app.url("/tokend.v1.TokenService/IssueToken")) {
            let refused = app.tokens.clone().issue_token(grpc_issue(&secret, Some(&proof))).await.unwrap_err();
            assert_error(&refused, tonic::Code::InvalidArgument, "invalid_dpop_proof");
            assert!(refused.message().contains(says), "{:?} should say {says:?}", refused.message());
        }
    }
}

/// A proof for `htu` breaking each rule of RFC 9449 §4.3 in turn, and what its refusal says.
fn broken_proofs(key: &DpopKey, htu: &str) -> Vec<(String, &'static str)> {
    let good = || DpopKey::claims("POST", htu);
    let with = |mut value: Value, name: &str, member: Value| {
        value[name] = member;
        value
    };
    let header = key.header();
    let mut private = header.clone();
    private["jwk"]["d"] = json!("AAAA");
    let tampered = {
        let proof = key.proof(htu);
        let (rest, _) = proof.rsplit_once('.').unwrap();
        format!("{rest}.{}", "A".repeat(86))
    };
    vec![
        (key.sign(&with(header.clone(), "typ", json!("JWT")), &good()), "typ must be dpop+jwt"),
        (key.sign(&with(header.clone(), "alg", json!("none")), &good()), "alg must be one of"),
        (key.sign(&with(header.clone(), "alg", json!("HS256")), &good()), "alg must be one of"),
        (key.sign(&private, &good()), "jwk must be a public key"),
        (tampered, "signature does not verify"),
        (key.sign(&header, &with(good(), "htm", json!("GET"))), "htm must be POST"),
        (
            key.sign(&header, &with(good(), "htu", json!("http://elsewhere.example/oauth/v2/token"))),
            "htu must be",
        ),
        (key.sign(&header, &with(good(), "iat", json!(now() - 120))), "older than 60 s"),
        (key.sign(&header, &with(good(), "iat", json!(now() + 120))), "iat is in the future"),
        (key.sign(&header, &with(good(), "jti", json!(""))), "jti"),
    ]
}

#[tokio::test]
async fn every_rule_of_a_proof_refuses_a_proof_that_breaks_it() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let key = DpopKey::generate(Algorithm::ES256);
    let htu = token_url(&app);
    for (proof, says) in broken_proofs(&key, &htu) {
        refused_with(&app, &secret, &[proof], "invalid_dpop_proof", says).await;
    }
    let once = key.proof(&htu);
    assert_eq!(token_with(&app, &secret, std::slice::from_ref(&once)).await.0, StatusCode::OK);
    refused_with(&app, &secret, &[once], "invalid_dpop_proof", "used before").await;
    refused_with(&app, &secret, &[key.proof(&htu), key.proof(&htu)], "invalid_dpop_proof", "not several")
        .await;

    let in_the_body = reqwest::Client::new()
        .post(token_url(&app))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "svc"),
            ("client_secret", &secret),
            ("dpop", &key.proof(&htu)),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = in_the_body.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");
}

#[tokio::test]
async fn a_client_behind_a_proxy_names_the_issuers_url() {
    let launch = Launch { issuer: Some("https://tokend.example".into()), ..Launch::default() };
    let app = TestApp::spawn_with(Backend::Sqlite, launch).await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let key = DpopKey::generate(Algorithm::ES256);
    let (status, body, _) =
        token_with(&app, &secret, &[key.proof("https://tokend.example/oauth/v2/token")]).await;
    assert_eq!((status, body["token_type"].as_str()), (StatusCode::OK, Some("DPoP")), "{body}");
}

/// An oversized proof is an invalid proof over gRPC, in gRPC's terms (not an
/// HTTP 431 that reads as UNKNOWN).
#[tokio::test]
async fn a_proof_of_tens_of_kib_is_refused_as_an_invalid_proof_over_grpc() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let huge = "e".repeat(27 * 1024);
    let refused = app.tokens.clone().issue_token(grpc_issue(&secret, Some(&huge))).await.unwrap_err();
    assert_error(&refused, tonic::Code::InvalidArgument, "invalid_dpop_proof");
    assert!(refused.message().contains("8 KiB"), "{}", refused.message());
}

/// A proof made for another server's endpoint does not pass because the
/// caller names that server in `Host`: `htu` is compared with the issuer's
/// URL and the listener's own address only.
#[tokio::test]
async fn a_host_the_caller_chooses_does_not_make_a_proof_for_another_server_pass() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let key = DpopKey::generate(Algorithm::ES256);
    let response = reqwest::Client::new()
        .post(token_url(&app))
        .header("host", "other-server.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("DPoP", key.proof("http://other-server.example/oauth/v2/token"))
        .body(format!("{BODY}{secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_dpop_proof", "{body}");
}

#[tokio::test]
async fn with_nonces_a_proof_must_carry_a_fresh_one_from_the_server() {
    let launch =
        Launch { dpop: DpopSettings { nonces: true, ..DpopSettings::default() }, ..Launch::default() };
    let app = TestApp::spawn_with(Backend::Sqlite, launch).await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let key = DpopKey::generate(Algorithm::ES256);
    let htu = token_url(&app);
    let (status, body, headers) = token_with(&app, &secret, &[key.proof(&htu)]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("use_dpop_nonce")));
    let nonce = headers["dpop-nonce"].to_str().unwrap().to_owned();
    let mut claims = DpopKey::claims("POST", &htu);
    claims["nonce"] = json!(nonce);
    let (status, body, _) = token_with(&app, &secret, &[key.sign(&key.header(), &claims)]).await;
    assert_eq!((status, body["token_type"].as_str()), (StatusCode::OK, Some("DPoP")), "{body}");

    let grpc_htu = app.url("/tokend.v1.TokenService/IssueToken");
    let refused =
        app.tokens.clone().issue_token(grpc_issue(&secret, Some(&key.proof(&grpc_htu)))).await.unwrap_err();
    assert_error(&refused, tonic::Code::InvalidArgument, "use_dpop_nonce");
    assert!(refused.metadata().get("dpop-nonce").is_some(), "the nonce rides in the metadata");

    app.authority.clock().advance(3 * 60);
    let mut stale = DpopKey::claims("POST", &htu);
    stale["nonce"] = json!(nonce);
    stale["iat"] = json!(app.authority.clock().now());
    let (_, body, _) = token_with(&app, &secret, &[key.sign(&key.header(), &stale)]).await;
    assert_eq!(body["error"], "use_dpop_nonce", "a stale nonce is refused: {body}");
}

#[tokio::test]
async fn exchange_keeps_a_dpop_binding() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let key = DpopKey::generate(Algorithm::ES256);
    let htu = token_url(&app);
    let (_, body, _) = token_with(&app, &secret, &[key.proof(&htu)]).await;
    let subject = body["access_token"].as_str().unwrap().to_owned();
    let exchange = |proof: Option<String>| {
        let mut request =
            reqwest::Client::new().post(token_url(&app)).basic_auth("svc", Some(&secret)).form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
                ("subject_token", subject.as_str()),
                ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
            ]);
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let exchanged = exchange(Some(key.proof(&htu))).await;
    assert_eq!(
        claims(exchanged["access_token"].as_str().unwrap())["cnf"]["jkt"],
        json!(key.jkt()),
        "{exchanged}"
    );
    let other = DpopKey::generate(Algorithm::ES256);
    assert_eq!(exchange(Some(other.proof(&htu))).await["error"], "invalid_dpop_proof");
    assert_eq!(
        exchange(None).await["error"],
        "invalid_dpop_proof",
        "a copy without the key is worth nothing"
    );
}

#[tokio::test]
async fn a_dpop_bound_token_is_no_bearer_token_for_tokends_own_apis() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = app.create_client("svc", "tokend.introspect", "tokend.introspect", &[]).await;
    let key = DpopKey::generate(Algorithm::ES256);
    let (_, body, _) = token_with(&app, &secret, &[key.proof(&token_url(&app))]).await;
    let bound = body["access_token"].as_str().unwrap();
    let ask = pb::IntrospectRequest {
        token: bound.to_owned(),
        token_type_hint: String::new(),
        signed_response: false,
    };
    let refused = app.tokens.clone().introspect(with_bearer(ask, bound)).await.unwrap_err();
    assert_error(&refused, tonic::Code::Unauthenticated, "invalid_token");
    assert!(refused.message().contains("DPoP-bound"), "{}", refused.message());
}

#[tokio::test]
async fn discovery_lists_the_proof_algorithms() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let metadata: Value =
        reqwest::get(app.url("/.well-known/oauth-authorization-server")).await.unwrap().json().await.unwrap();
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["ES256", "ES384", "EdDSA", "RS256", "PS256"])
    );
}

fn now() -> i64 {
    crate::support::signers::now()
}
