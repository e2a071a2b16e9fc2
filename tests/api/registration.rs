//! Dynamic client registration (RFC 7591) and its management (RFC 7592),
//! spoken as RFC 7591's examples speak it: plain JSON over HTTP. A CI
//! pipeline holding an initial access token registers a client, gets tokens
//! with it, reads, replaces and deletes it with the registration access
//! token; every refusal has the RFC's error code.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokend::{
    authority::{MetadataPolicy, RegistrationMode, RegistrationSettings},
    contract::pb,
};

use crate::{
    support::helpers::*,
    support::signers::{KeyServer, SigningKey, jwks, now},
};
use jsonwebtoken::Algorithm;

const REGISTER: &str = "/oauth/v2/register";

/// A call to a registration endpoint: its status, its `WWW-Authenticate`
/// and its JSON body (`null` when it has none).
async fn call(
    method: Method,
    url: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, String, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
    (status, challenge, body)
}

/// An initial access token: a token of a client allowed `tokend.register`.
async fn initial_token(app: &TestApp) -> String {
    let secret = app.create_client("ci-pipeline", "tokend.register", "", &[]).await;
    app.token("ci-pipeline", &secret, "tokend.register").await.access_token
}

/// RFC 7591 §3.1's example, for a client-credentials client.
fn billing_metadata() -> Value {
    json!({
        "client_name": "Billing batch",
        "scope": "invoices.read invoices.write",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_basic",
        "redirect_uris": ["https://client.example.org/callback"],
        "logo_uri": "https://client.example.org/logo.png",
    })
}

async fn client_credentials(app: &TestApp, id: &str, secret: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(app.url("/oauth/v2/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

on_both_stores! {
    async fn a_pipeline_registers_a_client_gets_tokens_and_manages_it_with_its_registration_token(app) {
        let initial = initial_token(&app).await;
        let (status, _, registered) = call(Method::POST, &app.url(REGISTER), Some(&initial), Some(billing_metadata())).await;
        assert_eq!(status, StatusCode::CREATED, "{registered}");
        let id = registered["client_id"].as_str().unwrap().to_owned();
        let secret = registered["client_secret"].as_str().unwrap().to_owned();
        let token = registered["registration_access_token"].as_str().unwrap().to_owned();
        let uri = registered["registration_client_uri"].as_str().unwrap().to_owned();
        assert_eq!(uri, app.url(&format!("{REGISTER}/{id}")));
        assert_eq!((registered["client_name"].as_str(), registered["scope"].as_str()), (Some("Billing batch"), Some("invoices.read invoices.write")));
        assert_eq!(registered["client_secret_expires_at"], 0, "secrets do not expire unless the server says so");
        assert!(registered["client_id_issued_at"].as_i64().unwrap() > 0);
        assert!(registered.get("redirect_uris").is_none(), "metadata tokend does not use is not registered");

        let (status, issued) = client_credentials(&app, &id, &secret).await;
        assert_eq!(status, StatusCode::OK, "{issued}");
        assert_eq!(claims(issued["access_token"].as_str().unwrap())["scope"], "invoices.read invoices.write");

        let (status, _, read) = call(Method::GET, &uri, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{read}");
        assert_eq!(read["client_id"], id.as_str());
        assert!(read.get("client_secret").is_none() && read.get("registration_access_token").is_none(), "shown once: {read}");

        let mut changed = billing_metadata();
        changed["client_id"] = json!(id);
        changed["scope"] = json!("invoices.read");
        let (status, _, replaced) = call(Method::PUT, &uri, Some(&token), Some(changed.clone())).await;
        assert_eq!(status, StatusCode::OK, "{replaced}");
        assert_eq!(replaced["scope"], "invoices.read");
        let rotated = replaced["registration_access_token"].as_str().unwrap().to_owned();
        assert_ne!(rotated, token, "a new registration access token on every update");
        let (status, challenge, refused) = call(Method::GET, &uri, Some(&token), None).await;
        assert_eq!((status, refused["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")), "the old one is dead");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        let (status, issued) = client_credentials(&app, &id, &secret).await;
        assert_eq!((status, issued["scope"].as_str()), (StatusCode::OK, Some("invoices.read")), "its secret stays: {issued}");

        let request = pb::ListEventsRequest { client_id: id.clone(), ..Default::default() };
        let bearer = app.admin_token().await;
        let events = pb::audit_service_client::AuditServiceClient::new(app.channel.clone())
            .list_events(with_bearer(request, &bearer)).await.unwrap().into_inner().events;
        let created = events.iter().find(|event| event.r#type == "client_created").unwrap();
        assert_eq!(created.actor, "ci-pipeline", "the initial access token's client registered it");
        let updated = events.iter().find(|event| event.r#type == "client_updated").unwrap();
        assert_eq!(updated.actor, id.as_str(), "the holder of its registration access token changed it");
        assert!(!format!("{events:?}").contains(&rotated) && !format!("{events:?}").contains(&secret));

        let (status, _, _) = call(Method::DELETE, &uri, Some(&rotated), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let request = pb::IntrospectRequest { token: issued["access_token"].as_str().unwrap().into(), ..Default::default() };
        let admin_secret = app.create_client("introspector", "tokend.introspect", "", &[]).await;
        let seen = app.tokens.clone().introspect(with_basic(request, "introspector", &admin_secret)).await.unwrap().into_inner();
        assert!(!seen.active, "a deleted client's tokens are dead");
        let (status, _, refused) = call(Method::GET, &uri, Some(&rotated), None).await;
        assert_eq!((status, refused["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")), "RFC 7592 §2: 401 for a client that is gone");
    }

    async fn registration_needs_an_initial_access_token_with_its_scope(app) {
        let (status, challenge, refused) = call(Method::POST, &app.url(REGISTER), None, Some(billing_metadata())).await;
        assert_eq!((status, refused["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")), "{refused}");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        let secret = app.create_client("plain", "orders.read", "orders.read", &[]).await;
        let plain = app.token("plain", &secret, "").await.access_token;
        let (status, _, refused) = call(Method::POST, &app.url(REGISTER), Some(&plain), Some(billing_metadata())).await;
        assert_eq!((status, refused["error"].as_str()), (StatusCode::FORBIDDEN, Some("insufficient_scope")), "{refused}");
        let (status, _, refused) = call(Method::POST, &app.url(REGISTER), Some("not-a-token"), Some(billing_metadata())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");

        let metadata: Value = reqwest::get(app.url("/.well-known/oauth-authorization-server")).await.unwrap().json().await.unwrap();
        assert_eq!(metadata["registration_endpoint"], app.url(REGISTER));
    }

    async fn invalid_metadata_is_refused_naming_the_field(app) {
        let initial = initial_token(&app).await;
        let cases = [
            (json!({"scope": "tokend.admin"}), "scope"),
            (json!({"scope": "tokend.register orders.read"}), "scope"),
            (json!({"grant_types": ["authorization_code"]}), "grant_types"),
            (json!({"token_endpoint_auth_method": "client_secret_jwt"}), "token_endpoint_auth_method"),
            (json!({"token_endpoint_auth_method": "private_key_jwt"}), "jwks_uri"),
            (json!({"jwks": "not a set"}), "jwks"),
            (json!({"client_name": ["a"]}), "client_name"),
            (json!({"token_ttl_seconds": 5}), "token_ttl_seconds"),
        ];
        for (metadata, field) in cases {
            let (status, _, refused) = call(Method::POST, &app.url(REGISTER), Some(&initial), Some(metadata.clone())).await;
            assert_eq!((status, refused["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_client_metadata")), "{metadata}: {refused}");
            assert!(refused["error_description"].as_str().unwrap().contains(field.split('_').next().unwrap()), "{metadata}: {refused}");
        }
        let response = reqwest::Client::new().post(app.url(REGISTER)).bearer_auth(&initial)
            .header("content-type", "application/json").body("{not json").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let response = reqwest::Client::new().post(app.url(REGISTER)).bearer_auth(&initial)
            .form(&[("client_name", "x")]).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

        let (status, _, registered) = call(Method::POST, &app.url(REGISTER), Some(&initial), Some(json!({
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "k1"}]},
        }))).await;
        assert_eq!(status, StatusCode::CREATED, "{registered}");
        assert!(registered.get("client_secret").is_none(), "a key client gets no secret: {registered}");
        assert_eq!(registered["jwks"]["keys"][0]["kid"], "k1");

        let uri = registered["registration_client_uri"].as_str().unwrap();
        let token = registered["registration_access_token"].as_str().unwrap();
        let (status, _, refused) = call(Method::PUT, uri, Some(token), Some(json!({"client_id": "someone-else"}))).await;
        assert_eq!((status, refused["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_client_metadata")), "{refused}");
        let (status, _, _) = call(Method::PATCH, uri, Some(token), None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }

    async fn of_concurrent_updates_with_one_registration_token_one_wins_and_the_others_change_nothing(app) {
        let initial = initial_token(&app).await;
        let (_, _, registered) = call(Method::POST, &app.url(REGISTER), Some(&initial), Some(billing_metadata())).await;
        let uri = registered["registration_client_uri"].as_str().unwrap().to_owned();
        let token = registered["registration_access_token"].as_str().unwrap().to_owned();
        let updates = (0..8).map(|n| {
            let mut changed = billing_metadata();
            changed["client_id"] = registered["client_id"].clone();
            changed["client_name"] = json!(format!("update {n}"));
            let (uri, token) = (uri.clone(), token.clone());
            tokio::spawn(async move { call(Method::PUT, &uri, Some(&token), Some(changed)).await })
        });
        let mut answers = Vec::new();
        for update in updates.collect::<Vec<_>>() {
            answers.push(update.await.unwrap());
        }
        let won: Vec<_> = answers.iter().filter(|(status, _, _)| *status == StatusCode::OK).collect();
        assert_eq!(won.len(), 1, "{answers:?}");
        for (status, _, refused) in answers.iter().filter(|(status, _, _)| *status != StatusCode::OK) {
            assert_eq!((*status, refused["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")));
        }
        let (_, _, winner) = won[0];
        let live = winner["registration_access_token"].as_str().unwrap();
        let (status, _, read) = call(Method::GET, &uri, Some(live), None).await;
        assert_eq!(status, StatusCode::OK, "the winner's token is the live one");
        assert_eq!(read["client_name"], winner["client_name"], "and its update is the one kept");
    }

    async fn a_trusted_issuers_software_statement_pins_the_metadata_it_states(app) {
        let initial = initial_token(&app).await;
        let publisher = SigningKey::generate(Algorithm::ES256, "publisher-1");
        let admin = app.admin_token().await;
        let trust = pb::CreateTrustedIssuerRequest {
            issuer: "https://software.example.com".into(), jwks: jwks(&[&publisher]), ..Default::default()
        };
        app.admin.clone().create_trusted_issuer(with_bearer(trust, &admin)).await.unwrap();
        let stated = json!({
            "iss": "https://software.example.com", "software_id": "report-runner", "iat": now(),
            "client_name": "Report runner", "scope": "reports.read",
        });
        let statement = publisher.sign(&stated);
        let document = json!({"client_name": "Anything else", "scope": "reports.read reports.write", "software_statement": statement});
        let (status, _, registered) = call(Method::POST, &app.url(REGISTER), Some(&initial), Some(document.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "{registered}");
        assert_eq!((registered["client_name"].as_str(), registered["scope"].as_str()), (Some("Report runner"), Some("reports.read")), "the statement wins");

        let cases = [
            (SigningKey::generate(Algorithm::ES256, "publisher-1").sign(&stated), "invalid_software_statement"),
            (publisher.sign(&json!({"iss": "https://software.example.com", "exp": now() - 60})), "invalid_software_statement"),
            (publisher.sign(&json!({"iss": "https://software.example.com"})), "invalid_software_statement"),
            (publisher.sign(&json!({"iss": "https://software.example.com", "iat": now() - 366 * 86_400})), "invalid_software_statement"),
            (publisher.sign(&json!({"iss": "https://elsewhere.example.com"})), "unapproved_software_statement"),
            ("not.a.jwt".to_owned(), "invalid_software_statement"),
        ];
        for (statement, error) in cases {
            let document = json!({"scope": "reports.read", "software_statement": statement});
            let (status, _, refused) = call(Method::POST, &app.url(REGISTER), Some(&initial), Some(document)).await;
            assert_eq!((status, refused["error"].as_str()), (StatusCode::BAD_REQUEST, Some(error)), "{refused}");
        }
    }

    async fn a_registration_token_manages_its_own_client_only(app) {
        let initial = initial_token(&app).await;
        let url = app.url(REGISTER);
        let register = || call(Method::POST, &url, Some(&initial), Some(billing_metadata()));
        let (_, _, first) = register().await;
        let (_, _, second) = register().await;
        let first_uri = first["registration_client_uri"].as_str().unwrap();
        let (status, _, _) = call(Method::GET, first_uri, second["registration_access_token"].as_str(), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "another client's registration token");
        let (status, _, _) = call(Method::DELETE, first_uri, Some(&initial), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the initial access token does not manage clients");
        app.create_client("admin-made", "orders.read", "", &[]).await;
        let (status, _, _) = call(Method::GET, &app.url(&format!("{REGISTER}/admin-made")), Some(&initial), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "a client an admin registered is not managed here");
    }
}

fn policy(scopes: &str, audiences: &str, claims: &str) -> MetadataPolicy {
    MetadataPolicy::parse(scopes, audiences, claims).unwrap()
}

async fn launched(registration: RegistrationSettings) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, Launch { registration, ..Launch::default() }).await.unwrap()
}

#[tokio::test]
async fn the_operator_chooses_who_may_register_and_which_scopes() {
    let off = launched(RegistrationSettings::new(RegistrationMode::Off, policy("", "", ""), 30)).await;
    let initial = initial_token(&off).await;
    let (status, _, _) =
        call(Method::POST, &off.url(REGISTER), Some(&initial), Some(billing_metadata())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let metadata: Value =
        reqwest::get(off.url("/.well-known/oauth-authorization-server")).await.unwrap().json().await.unwrap();
    assert!(metadata.get("registration_endpoint").is_none(), "{metadata}");

    let bounded =
        launched(RegistrationSettings::new(RegistrationMode::Token, policy("invoices.read", "", ""), 30))
            .await;
    let initial = initial_token(&bounded).await;
    let (status, _, refused) =
        call(Method::POST, &bounded.url(REGISTER), Some(&initial), Some(billing_metadata())).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_client_metadata")),
        "{refused}"
    );
    let (status, _, _) =
        call(Method::POST, &bounded.url(REGISTER), Some(&initial), Some(json!({"scope": "invoices.read"})))
            .await;
    assert_eq!(status, StatusCode::CREATED);

    let open = launched(RegistrationSettings::new(RegistrationMode::Open, policy("", "", ""), 30)).await;
    let (status, _, registered) =
        call(Method::POST, &open.url(REGISTER), None, Some(billing_metadata())).await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let bearer = open.admin_token().await;
    let request = pb::ListEventsRequest { types: vec!["client_created".into()], ..Default::default() };
    let events = pb::audit_service_client::AuditServiceClient::new(open.channel.clone())
        .list_events(with_bearer(request, &bearer))
        .await
        .unwrap()
        .into_inner()
        .events;
    let dynamic =
        events.iter().find(|event| event.target == registered["client_id"].as_str().unwrap()).unwrap();
    assert_eq!(dynamic.actor, "anonymous");
}

#[tokio::test]
async fn registrants_name_audiences_and_claims_only_as_the_operator_lists_them() {
    let by_default =
        launched(RegistrationSettings::new(RegistrationMode::Open, policy("", "", ""), 30)).await;
    for refused in [json!({"audiences": ["orders-api"]}), json!({"claims": {"roles": ["admin"]}})] {
        let (status, _, answer) = call(Method::POST, &by_default.url(REGISTER), None, Some(refused)).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_client_metadata"))
        );
    }
    let listed =
        launched(RegistrationSettings::new(RegistrationMode::Open, policy("", "orders-api", "tenant"), 30))
            .await;
    let document = json!({"scope": "orders.read", "audiences": ["orders-api"], "claims": {"tenant": "acme"}});
    let (status, _, registered) = call(Method::POST, &listed.url(REGISTER), None, Some(document)).await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let (id, secret) =
        (registered["client_id"].as_str().unwrap(), registered["client_secret"].as_str().unwrap());
    let (status, issued) = client_credentials(&listed, id, secret).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let token = claims(issued["access_token"].as_str().unwrap());
    assert_eq!((token["aud"][0].as_str(), token["tenant"].as_str()), (Some("orders-api"), Some("acme")));
}

/// A registrant's jwks_uri is fetched from the public web only: a loopback
/// publisher is reached only once the operator lists it (`--outbound-allow`).
#[tokio::test]
async fn a_registrants_jwks_uri_reaches_internal_addresses_only_as_the_operator_allows() {
    let keys = KeyServer::start().await;
    let key = SigningKey::generate(Algorithm::ES256, "k1");
    keys.serve("/jwks", &jwks(&[&key]), 300);
    for (allow, expected) in
        [(vec![], StatusCode::UNAUTHORIZED), (vec!["127.0.0.1/32".to_owned()], StatusCode::OK)]
    {
        let assertions = tokend::authority::AssertionSettings {
            outbound: tokend::authority::OutboundPolicy::parse(&allow, false).unwrap(),
            ..Default::default()
        };
        let registration = RegistrationSettings::new(RegistrationMode::Open, policy("", "", ""), 30);
        let launch = Launch { registration, assertions, ..Launch::default() };
        let app = TestApp::spawn_with(Backend::Sqlite, launch).await.unwrap();
        let document = json!({"scope": "reports.read", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": keys.url("/jwks")});
        let (status, _, registered) = call(Method::POST, &app.url(REGISTER), None, Some(document)).await;
        assert_eq!(status, StatusCode::CREATED, "{registered}");
        let id = registered["client_id"].as_str().unwrap();
        let now = now();
        let assertion = key.sign(&json!({"iss": id, "sub": id, "aud": app.issuer(), "iat": now, "exp": now + 60, "jti": format!("j{allow:?}")}));
        let response = reqwest::Client::new()
            .post(app.url("/oauth/v2/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", &assertion),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "allowed: {allow:?}");
    }
    assert_eq!(keys.hits("/jwks"), 1, "fetched only where the operator allowed it");
}

/// A flood's leftovers do not pile up: a registered client that never used
/// its secret is removed once `--registration-unused-ttl` has passed; one
/// that got a token stays. The fleet's quota bounds new registrations too.
#[tokio::test]
async fn registrations_never_used_are_removed_and_the_fleet_takes_so_many_a_minute() {
    let registration = RegistrationSettings {
        unused_ttl_seconds: 3600,
        fleet_per_minute: 3,
        ..RegistrationSettings::new(RegistrationMode::Open, policy("", "", ""), 0)
    };
    let app = launched(registration).await;
    let mut registered = Vec::new();
    for _ in 0..2 {
        let (status, _, answer) =
            call(Method::POST, &app.url(REGISTER), None, Some(json!({"scope": "r"}))).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        registered.push(answer);
    }
    let id = |n: usize| registered[n]["client_id"].as_str().unwrap().to_owned();
    let (status, _) =
        client_credentials(&app, &id(1), registered[1]["client_secret"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    app.authority.clock().advance(3601);
    for _ in 0..3 {
        let (status, _, _) = call(Method::POST, &app.url(REGISTER), None, Some(json!({"scope": "r"}))).await;
        assert_eq!(status, StatusCode::CREATED, "three in a minute");
    }
    let (status, _, _) = call(Method::POST, &app.url(REGISTER), None, Some(json!({"scope": "r"}))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "past the fleet's quota for the minute");

    app.authority.maintain().await;
    assert!(app.registry.details(&id(0)).await.is_err(), "never used, an hour old: removed");
    assert!(app.registry.details(&id(1)).await.is_ok(), "used: kept");
}

#[tokio::test]
async fn one_address_may_make_only_so_many_registration_requests_a_minute() {
    let app = launched(RegistrationSettings::new(RegistrationMode::Open, policy("", "", ""), 3)).await;
    for _ in 0..3 {
        let (status, _, _) = call(Method::POST, &app.url(REGISTER), None, Some(json!({}))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let response = reqwest::Client::new().post(app.url(REGISTER)).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get("retry-after").is_some());
    let samples = crate::support::scrape::scrape(&app.url("/metrics")).await;
    assert_eq!(
        crate::support::scrape::get(
            &samples,
            r#"tokend_registrations_total{operation="register",outcome="ok"}"#
        ),
        3.0
    );
    assert_eq!(
        crate::support::scrape::get(
            &samples,
            r#"tokend_registrations_total{operation="register",outcome="too_many_requests"}"#
        ),
        1.0
    );
}
