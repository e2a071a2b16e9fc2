//! `private_key_jwt` (RFC 7523 §2.2): a client with no secret, only a key,
//! gets tokens over gRPC and HTTP; every rule an assertion must meet has a
//! refusal; keys registered inline or published at a `jwks_uri`.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use tokend::authority::{AssertionSettings, AuthDraft, ClientChanges, ClientDraft, EventQuery};
use tonic::Code;

use crate::{
    support::helpers::*,
    support::signers::{KeyServer, SigningKey, jwks, now},
};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// `id` for private_key_jwt alone, with `jwks` inline or `jwks_uri`.
fn draft(id: &str, jwks: &str, jwks_uri: &str) -> ClientDraft {
    ClientDraft {
        client_id: id.into(),
        allowed_scopes: vec!["orders.read".into()],
        default_scopes: vec!["orders.read".into()],
        auth: AuthDraft {
            methods: vec!["private_key_jwt".into()],
            jwks: jwks.into(),
            jwks_uri: jwks_uri.into(),
            ..AuthDraft::default()
        },
        ..ClientDraft::default()
    }
}

/// Registers [`draft`]; such a client has no secret.
async fn register(app: &TestApp, id: &str, jwks: &str, jwks_uri: &str) {
    let (_, secret) =
        app.registry.create(draft(id, jwks, jwks_uri), &Actor::cli()).await.expect("the client is created");
    assert!(secret.is_none(), "a private_key_jwt client has no secret");
}

/// Claims of a good assertion by `id` for `app`, valid for a minute, with a fresh `jti`.
fn claims(app: &TestApp, id: &str) -> Value {
    let now = now();
    json!({
        "iss": id, "sub": id, "aud": app.issuer(), "iat": now, "exp": now + 60,
        "jti": format!("jti-{}", rand_suffix()),
    })
}

fn rand_suffix() -> String {
    let mut bytes = [0u8; 12];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn assertion_request(client_id: &str, assertion: &str) -> tokend::contract::pb::IssueTokenRequest {
    tokend::contract::pb::IssueTokenRequest {
        grant_type: "client_credentials".into(),
        client_id: client_id.into(),
        client_assertion_type: JWT_BEARER.into(),
        client_assertion: assertion.into(),
        ..Default::default()
    }
}

/// Asks for a token over gRPC with `assertion`; the token or the status.
async fn issue(app: &TestApp, client_id: &str, assertion: &str) -> Result<String, tonic::Status> {
    let response = app.tokens.clone().issue_token(assertion_request(client_id, assertion)).await?;
    Ok(response.into_inner().access_token)
}

async fn refused(app: &TestApp, client_id: &str, assertion: &str, what: &str) {
    let status = issue(app, client_id, assertion).await.expect_err(what);
    assert_error(&status, Code::Unauthenticated, "invalid_client");
    assert_eq!(status.message(), "client authentication failed", "{what}: the same words for every refusal");
}

/// `--require-explicit-assertion-typ`: a `private_key_jwt` assertion is
/// accepted typed `client-authentication+jwt` (in any case) and refused untyped.
#[tokio::test]
async fn an_explicit_assertion_type_is_accepted_and_may_be_required() {
    let assertions = AssertionSettings { require_explicit_typ: true, ..AssertionSettings::default() };
    let app = TestApp::spawn_with(Backend::Sqlite, Launch { assertions, ..Launch::default() }).await.unwrap();
    let key = SigningKey::generate(Algorithm::ES256, "k1");
    register(&app, "orders-signer", &jwks(&[&key]), "").await;
    let typed = |typ: &str| {
        let header =
            jsonwebtoken::Header { typ: Some(typ.into()), ..jsonwebtoken::Header::new(Algorithm::ES256) };
        key.sign_with(header, &claims(&app, "orders-signer"))
    };
    issue(&app, "orders-signer", &typed("client-authentication+jwt")).await.expect("typed");
    issue(&app, "orders-signer", &typed("Client-Authentication+JWT")).await.expect("media types ignore case");
    for untyped in [typed("JWT"), key.sign(&claims(&app, "orders-signer"))] {
        let status = issue(&app, "orders-signer", &untyped).await.unwrap_err();
        assert!(status.message().contains("client-authentication+jwt"), "{}", status.message());
    }
}

on_both_stores! {
    async fn a_client_with_only_a_key_gets_tokens_over_grpc_and_http(app) {
        let key = SigningKey::generate(Algorithm::ES256, "k1");
        register(&app, "orders-signer", &jwks(&[&key]), "").await;

        let token = issue(&app, "orders-signer", &key.sign(&claims(&app, "orders-signer"))).await.unwrap();
        let issued = crate::support::helpers::claims(&token);
        assert_eq!(issued["sub"], "orders-signer");
        assert_eq!(issued["scope"], "orders.read");

        // No client_id: the assertion's sub names the client; an audience array of the issuer alone.
        let mut in_array = claims(&app, "orders-signer");
        in_array["aud"] = json!([app.issuer()]);
        issue(&app, "", &key.sign(&in_array)).await.expect("the issuer alone, in an array");

        // draft-ietf-oauth-rfc7523bis: the token endpoint's URL, or the issuer among others, is refused, and says so.
        for aud in [json!(app.url("/oauth/v2/token")), json!([app.issuer(), "https://other.example"])] {
            let mut injected = claims(&app, "orders-signer");
            injected["aud"] = aud.clone();
            let status = issue(&app, "", &key.sign(&injected)).await.unwrap_err();
            assert_eq!(status.code(), tonic::Code::Unauthenticated, "{aud}");
            assert!(status.message().contains("issuer identifier, alone"), "{aud}: {}", status.message());
        }

        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &key.sign(&claims(&app, "orders-signer"))),
        ];
        let response = reqwest::Client::new().post(app.url("/oauth/v2/token")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(crate::support::helpers::claims(body["access_token"].as_str().unwrap())["sub"], "orders-signer");
    }

    async fn every_accepted_algorithm_verifies(app) {
        for (algorithm, id) in [
            (Algorithm::ES384, "es384-client"),
            (Algorithm::EdDSA, "eddsa-client"),
            (Algorithm::RS256, "rs256-client"),
            (Algorithm::PS256, "ps256-client"),
        ] {
            let key = SigningKey::generate(algorithm, "k1");
            register(&app, id, &jwks(&[&key]), "").await;
            issue(&app, id, &key.sign(&claims(&app, id))).await.unwrap_or_else(|err| panic!("{algorithm:?}: {err}"));
        }
    }

    async fn an_assertion_breaking_any_rule_is_refused_alike(app) {
        let key = SigningKey::generate(Algorithm::ES256, "k1");
        let stranger = SigningKey::generate(Algorithm::ES256, "k1");
        register(&app, "orders-signer", &jwks(&[&key]), "").await;
        let good = || claims(&app, "orders-signer");
        let with = |name: &str, value: Value| {
            let mut claims = good();
            claims[name] = value;
            key.sign(&claims)
        };
        let without = |name: &str| {
            let mut claims = good();
            claims.as_object_mut().unwrap().remove(name);
            key.sign(&claims)
        };
        let now = now();
        let mut critical = jsonwebtoken::Header::new(Algorithm::ES256);
        critical.crit = Some(vec!["urn:example:must-understand".into()]);
        let cases = [
            (with("exp", json!(now + 320)), "20 s past the 300 s lifetime, within the skew leeway"),
            (key.sign_with(critical, &good()), "an extension marked critical"),
            (with("exp", json!(now - 5)), "expired"),
            (with("exp", json!(now + 3600)), "exp too far away"),
            (with("iat", json!(now + 600)), "issued in the future"),
            (with("nbf", json!(now + 600)), "not yet valid"),
            (without("exp"), "no exp"),
            (without("jti"), "no jti"),
            (with("iss", json!("someone-else")), "iss is not sub"),
            (with("sub", json!("someone-else")), "sub is another client"),
            (stranger.sign(&good()), "signed by a key the client did not register"),
        ];
        for (assertion, what) in &cases {
            refused(&app, "orders-signer", assertion, what).await;
        }
        // The body's client_id must be the assertion's sub.
        refused(&app, "another-client", &key.sign(&good()), "client_id is not sub").await;
        // A signer whose clock is 20 s ahead, with the longest lifetime: within the skew.
        let mut skewed = good();
        (skewed["iat"], skewed["exp"]) = (json!(now + 20), json!(now + 320));
        issue(&app, "orders-signer", &key.sign(&skewed)).await.expect("a full lifetime from a clock a little ahead");
    }

    async fn a_refused_assertion_without_client_id_is_counted_against_the_client_it_names(app) {
        let key = SigningKey::generate(Algorithm::ES256, "k1");
        let stranger = SigningKey::generate(Algorithm::ES256, "k1");
        register(&app, "orders-signer", &jwks(&[&key]), "").await;
        refused(&app, "", &stranger.sign(&claims(&app, "orders-signer")), "a stranger's key, no client_id").await;
        refused(&app, "", "not.a.jwt", "no client named anywhere").await;
        app.authority.clock().advance(60);
        app.authority.maintain().await;
        let failed = |client_id: &str| EventQuery {
            client_id: client_id.into(),
            types: vec!["client_authentication_failed".into()],
            since: 0,
        };
        for target in ["orders-signer", "*"] {
            let events = app.authority.audit().list(&failed(target), 0, "").await.unwrap().events;
            assert_eq!(events.len(), 1, "{target}: {events:?}");
            assert!(events[0].details.contains(r#""client_assertion":1"#), "{target}: {}", events[0].details);
        }
    }

    async fn unsigned_and_hmac_assertions_are_refused(app) {
        let key = SigningKey::generate(Algorithm::ES256, "k1");
        let registered = jwks(&[&key]);
        register(&app, "orders-signer", &registered, "").await;
        let encode = |value: &Value| {
            use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
            URL_SAFE_NO_PAD.encode(value.to_string())
        };
        let body = encode(&claims(&app, "orders-signer"));
        let none = format!("{}.{body}.", encode(&json!({"alg": "none", "kid": "k1"})));
        refused(&app, "orders-signer", &none, "alg none").await;
        // HS256 keyed with the public key's bytes, the classic confusion attack.
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let hmac = jsonwebtoken::EncodingKey::from_secret(registered.as_bytes());
        let forged = jsonwebtoken::encode(&header, &claims(&app, "orders-signer"), &hmac).unwrap();
        refused(&app, "orders-signer", &forged, "HS256 with the public key").await;
        let public = key.public_jwk().to_string();
        let forged = jsonwebtoken::encode(&header, &claims(&app, "orders-signer"),
            &jsonwebtoken::EncodingKey::from_secret(public.as_bytes())).unwrap();
        refused(&app, "orders-signer", &forged, "HS256 with the JWK's bytes").await;
    }

    async fn an_assertion_is_accepted_once_across_instances(app) {
        let key = SigningKey::generate(Algorithm::ES256, "k1");
        register(&app, "orders-signer", &jwks(&[&key]), "").await;
        let assertion = key.sign(&claims(&app, "orders-signer"));
        issue(&app, "orders-signer", &assertion).await.expect("the first use is accepted");
        refused(&app, "orders-signer", &assertion, "a replay on the same instance").await;

        let other = app.second_instance(tokend::authority::SigningAlgorithm::Es256).await;
        let fresh = key.sign(&claims(&app, "orders-signer"));
        issue(&other, "orders-signer", &fresh).await.expect("the other instance accepts a fresh assertion");
        refused(&app, "orders-signer", &fresh, "a replay on another instance").await;
        refused(&other, "orders-signer", &assertion, "the first assertion, on the other instance").await;

        // The same assertion many times at once, to both instances: exactly one is accepted.
        let racing = key.sign(&claims(&app, "orders-signer"));
        let attempts = (0..16).map(|i| {
            let tokens = if i % 2 == 0 { app.tokens.clone() } else { other.tokens.clone() };
            let request = assertion_request("orders-signer", &racing);
            async move { tokens.clone().issue_token(request).await }
        });
        let accepted = futures_join_all(attempts).await.into_iter().filter(Result::is_ok).count();
        assert_eq!(accepted, 1, "one of sixteen simultaneous uses");
    }

    async fn assertions_and_secrets_do_not_mix(app) {
        let key = SigningKey::generate(Algorithm::ES256, "k1");
        register(&app, "orders-signer", &jwks(&[&key]), "").await;
        let mut request = assertion_request("orders-signer", &key.sign(&claims(&app, "orders-signer")));
        request.client_secret = "also-a-secret".into();
        let status = app.tokens.clone().issue_token(request).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "invalid_request");

        // A secret client may not use an assertion, even one its id signs.
        let secret = app.create_client("secret-client", "orders.read", "", &[]).await;
        let key_of_secret_client = SigningKey::generate(Algorithm::ES256, "k1");
        refused(&app, "secret-client", &key_of_secret_client.sign(&claims(&app, "secret-client")), "no private_key_jwt").await;
        // And a key-only client has no secret to present.
        let status = app.tokens.clone().issue_token(token_request("orders-signer", &secret, "")).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_client");
    }

    async fn a_key_removed_from_the_registration_stops_working(app) {
        let old = SigningKey::generate(Algorithm::ES256, "old");
        let new = SigningKey::generate(Algorithm::ES256, "new");
        register(&app, "orders-signer", &jwks(&[&old, &new]), "").await;
        issue(&app, "orders-signer", &old.sign(&claims(&app, "orders-signer"))).await.expect("old key works");
        let changes = ClientChanges { jwks: Some(jwks(&[&new])), ..ClientChanges::default() };
        app.registry.update("orders-signer", changes, &Actor::cli()).await.unwrap();
        refused(&app, "orders-signer", &old.sign(&claims(&app, "orders-signer")), "a removed key").await;
        issue(&app, "orders-signer", &new.sign(&claims(&app, "orders-signer"))).await.expect("the kept key works");
    }

    async fn keys_at_a_jwks_uri_are_fetched_cached_and_refetched_for_a_new_kid(app) {
        let server = KeyServer::start().await;
        let first = SigningKey::generate(Algorithm::ES256, "first");
        server.serve("/jwks", &jwks(&[&first]), 300);
        register(&app, "orders-signer", "", &server.url("/jwks")).await;

        for _ in 0..3 {
            issue(&app, "orders-signer", &first.sign(&claims(&app, "orders-signer"))).await.unwrap();
        }
        assert_eq!(server.hits("/jwks"), 1, "fetched once, then cached");

        // A rotated key: the unknown kid makes tokend fetch again.
        let second = SigningKey::generate(Algorithm::ES256, "second");
        server.serve("/jwks", &jwks(&[&first, &second]), 300);
        // Within ten seconds of the last fetch, an unknown kid does not fetch again…
        refused(&app, "orders-signer", &second.sign(&claims(&app, "orders-signer")), "too soon to refetch").await;
        assert_eq!(server.hits("/jwks"), 1);
        app.authority.clock().advance(10);
        // …after them it does, once, and the new key works.
        issue(&app, "orders-signer", &second.sign(&claims(&app, "orders-signer"))).await.expect("the rotated key");
        let unknown = SigningKey::generate(Algorithm::ES256, "unknown");
        for _ in 0..3 {
            refused(&app, "orders-signer", &unknown.sign(&claims(&app, "orders-signer")), "an unknown kid").await;
        }
        assert_eq!(server.hits("/jwks"), 2, "one refetch, however many unknown kids arrive");

        // The publisher goes away: the keys fetched before keep working.
        server.serve("/jwks", "", 0);
        server.hang("/jwks");
        issue(&app, "orders-signer", &first.sign(&claims(&app, "orders-signer"))).await.expect("cached keys");
    }

    async fn a_publisher_that_hangs_or_floods_stalls_no_one_else(app) {
        let server = KeyServer::start().await;
        server.hang("/hangs");
        server.huge("/huge");
        let key = SigningKey::generate(Algorithm::ES256, "k1");
        register(&app, "hanging-signer", "", &server.url("/hangs")).await;
        register(&app, "flooding-signer", "", &server.url("/huge")).await;
        let secret = app.create_client("bystander", "orders.read", "", &[]).await;

        let hanging = {
            let (tokens, assertion) = (app.tokens.clone(), key.sign(&claims(&app, "hanging-signer")));
            tokio::spawn(async move { tokens.clone().issue_token(assertion_request("hanging-signer", &assertion)).await })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = std::time::Instant::now();
        app.token("bystander", &secret, "").await;
        assert!(started.elapsed() < Duration::from_secs(2), "the bystander waited {:?}", started.elapsed());
        assert!(!hanging.is_finished(), "the hanging fetch is still pending");

        refused(&app, "flooding-signer", &key.sign(&claims(&app, "flooding-signer")), "a 10 MiB JWKS").await;
        let status = hanging.await.unwrap().expect_err("a publisher that never answers proves nothing");
        assert_error(&status, Code::Unauthenticated, "invalid_client");
    }

    async fn a_jwks_uri_redirect_to_another_host_is_not_followed(app) {
        let keys = KeyServer::start().await;
        let elsewhere = KeyServer::start().await;
        let key = SigningKey::generate(Algorithm::ES256, "k1");
        elsewhere.serve("/jwks", &jwks(&[&key]), 300);
        keys.redirect("/jwks", &elsewhere.url("/jwks"));
        register(&app, "orders-signer", "", &keys.url("/jwks")).await;
        refused(&app, "orders-signer", &key.sign(&claims(&app, "orders-signer")), "keys behind a foreign redirect").await;
        assert_eq!(elsewhere.hits("/jwks"), 0);
    }

    async fn introspection_and_revocation_accept_an_assertion(app) {
        let key = SigningKey::generate(Algorithm::ES256, "k1");
        register(&app, "orders-signer", &jwks(&[&key]), "").await;
        let token = issue(&app, "orders-signer", &key.sign(&claims(&app, "orders-signer"))).await.unwrap();
        let form = [
            ("token", token.as_str()),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &key.sign(&claims(&app, "orders-signer"))),
        ];
        let response =
            reqwest::Client::new().post(app.url("/oauth/v2/introspect")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["active"], true);
        assert_eq!(body["client_id"], "orders-signer");
    }
}

#[tokio::test]
async fn a_registration_is_checked_as_a_whole() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let key = SigningKey::generate(Algorithm::ES256, "k1");
    for (jwks, uri, what) in [
        ("", "", "no keys"),
        (r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#, "", "a symmetric key"),
        ("", "http://keys.example/jwks", "plain http to another host"),
        (&jwks(&[&key]), "https://keys.example/jwks", "both jwks and jwks_uri"),
    ] {
        let err =
            app.registry.create(draft("orders-signer", jwks, uri), &Actor::cli()).await.expect_err(what);
        let field = match err {
            tokend::authority::AuthError::InvalidField { field, .. } => field,
            other => panic!("{what}: {other:?}"),
        };
        assert!(["jwks", "jwks_uri", "token_endpoint_auth_methods"].contains(&field), "{what}: {field}");
    }
}
