//! The JWT bearer grant (RFC 7523 §2.1), as ZITADEL's "JWT profile" SDKs use
//! it: a client registered for the grant signs a JWT (iss = sub = its id,
//! aud = the issuer, a `kid`, RS256 or ES256, an hour's life, `jti` optional)
//! and posts it as `assertion`; it gets its own token, over HTTP (form and
//! JSON), gRPC and Connect. Every broken rule is `invalid_grant`.

use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};
use tokend::{
    authority::{AuthDraft, ClientDraft},
    contract::pb,
};
use tonic::Code;

use crate::{
    support::helpers::*,
    support::signers::{SigningKey, jwks, now},
};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Registers `id` with `key`'s public half, for `grants`.
async fn register(app: &TestApp, id: &str, key: &SigningKey, grants: &[&str]) {
    let draft = ClientDraft {
        client_id: id.into(),
        allowed_scopes: vec!["orders.read".into(), "orders.write".into()],
        default_scopes: vec!["orders.read".into()],
        auth: AuthDraft {
            methods: vec!["private_key_jwt".into()],
            jwks: jwks(&[key]),
            ..AuthDraft::default()
        },
        grant_types: grants.iter().map(|grant| grant.to_string()).collect(),
        ..ClientDraft::default()
    };
    app.registry.create(draft, &Actor::cli()).await.expect("the client is created");
}

/// What ZITADEL's SDKs sign: `iss` = `sub` = the client, `aud` = the issuer, an hour, no `jti`.
fn profile(app: &TestApp, id: &str) -> Value {
    let now = now();
    json!({ "iss": id, "sub": id, "aud": app.issuer(), "iat": now, "exp": now + 3600 })
}

fn with(value: &Value, changes: Value) -> Value {
    let mut changed = value.clone();
    for (name, member) in changes.as_object().unwrap() {
        changed[name] = member.clone();
    }
    changed
}

/// The grant at the token endpoint's form, with `extra` parameters: status and answer.
async fn form(app: &TestApp, assertion: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut params = vec![("grant_type", GRANT), ("assertion", assertion), ("scope", "orders.read")];
    params.extend_from_slice(extra);
    let response =
        reqwest::Client::new().post(app.url("/oauth/v2/token")).form(&params).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

on_both_stores! {
    async fn a_zitadel_style_assertion_gets_the_clients_token_in_every_protocol(app) {
        let key = SigningKey::generate(Algorithm::RS256, "zitadel-key-1");
        register(&app, "zitadel-svc", &key, &[GRANT]).await;
        let assertion = key.sign(&profile(&app, "zitadel-svc"));

        let (status, answer) = form(&app, &assertion, &[]).await;
        assert_eq!(status, 200, "{answer}");
        let token = claims(answer["access_token"].as_str().unwrap());
        assert_eq!((token["sub"].as_str(), token["client_id"].as_str(), token["scope"].as_str()),
            (Some("zitadel-svc"), Some("zitadel-svc"), Some("orders.read")));
        assert!(answer.get("issued_token_type").is_none(), "a grant, not an exchange");

        // Without a jti it can be used again until it expires, as the README says; a client_id beside it is ignored.
        let (status, answer) = form(&app, &assertion, &[("client_id", "someone-else")]).await;
        assert_eq!(status, 200, "{answer}");

        let grpc = app.tokens.clone().issue_token(pb::IssueTokenRequest {
            grant_type: GRANT.into(), assertion: assertion.clone(), scope: "orders.write".into(), ..Default::default()
        }).await.unwrap().into_inner();
        assert_eq!(grpc.scope, "orders.write");
        let connect: Value = reqwest::Client::new().post(app.url("/tokend.v1.TokenService/IssueToken"))
            .json(&json!({"grantType": GRANT, "assertion": assertion})).send().await.unwrap().json().await.unwrap();
        assert_eq!(claims(connect["accessToken"].as_str().unwrap())["sub"], "zitadel-svc", "{connect}");
        let json_dialect: Value = reqwest::Client::new().post(app.url("/oauth/v2/token"))
            .json(&json!({"grant_type": GRANT, "assertion": assertion})).send().await.unwrap().json().await.unwrap();
        assert!(json_dialect["access_token"].is_string(), "{json_dialect}");
        let metadata: Value = reqwest::get(app.url("/.well-known/oauth-authorization-server")).await.unwrap().json().await.unwrap();
        assert!(metadata["grant_types_supported"].as_array().unwrap().contains(&json!(GRANT)));
    }

    async fn every_broken_rule_is_invalid_grant(app) {
        let key = SigningKey::generate(Algorithm::ES256, "k1");
        let stranger = SigningKey::generate(Algorithm::ES256, "k1");
        register(&app, "signer", &key, &[GRANT]).await;
        let good = profile(&app, "signer");
        let with_jti = with(&good, json!({"jti": "once-only"}));
        let (status, _) = form(&app, &key.sign(&with_jti), &[]).await;
        assert_eq!(status, 200, "a jti, when there is one, is used once");
        let hs256 = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &good,
            &jsonwebtoken::EncodingKey::from_secret(b"not a registered key")).unwrap();
        let cases = [
            (key.sign(&with_jti), "a replayed jti"),
            (key.sign(&with(&good, json!({"exp": now() - 10}))), "expired"),
            (key.sign(&with(&good, json!({"exp": now() + 7200}))), "longer than the grant's hour"),
            (key.sign(&with(&good, json!({"aud": "https://elsewhere.example"}))), "another audience"),
            (key.sign(&with(&good, json!({"sub": "someone-else"}))), "iss and sub differ"),
            (key.sign(&with(&good, json!({"iss": "nobody", "sub": "nobody"}))), "no such client"),
            (key.sign(&with(&good, json!({"nbf": now() + 600}))), "not yet valid"),
            (stranger.sign(&good), "a key the client did not register"),
            (hs256, "a MAC, not a signature"),
            ("not-a-jwt".to_owned(), "not a JWT"),
        ];
        for (assertion, what) in cases {
            let (status, answer) = form(&app, &assertion, &[]).await;
            assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")), "{what}: {answer}");
        }
        let refused = app.tokens.clone().issue_token(pb::IssueTokenRequest {
            grant_type: GRANT.into(), assertion: stranger.sign(&good), ..Default::default()
        }).await.unwrap_err();
        assert_error(&refused, Code::Unauthenticated, "invalid_grant");
        let (status, answer) = form(&app, "", &[]).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "{answer}");
    }

    async fn only_clients_registered_for_the_grant_and_their_own_authentication_get_one(app) {
        let key = SigningKey::generate(Algorithm::ES256, "k1");
        register(&app, "not-registered-for-it", &key, &[]).await;
        let (status, answer) = form(&app, &key.sign(&profile(&app, "not-registered-for-it")), &[]).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("unauthorized_client")), "{answer}");

        register(&app, "signer", &key, &[GRANT]).await;
        let other = app.create_client("other", "orders.read", "orders.read", &[]).await;
        let assertion = key.sign(&profile(&app, "signer"));
        let response = reqwest::Client::new().post(app.url("/oauth/v2/token")).basic_auth("other", Some(&other))
            .form(&[("grant_type", GRANT), ("assertion", assertion.as_str())]).send().await.unwrap();
        assert_eq!(response.status(), 400);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "invalid_grant", "another client's authentication beside it: {answer}");
    }

    async fn a_trusted_platforms_token_is_a_grant_for_the_client_its_workload_acts_as(app) {
        const CLUSTER: &str = "https://kubernetes.default.svc.cluster.local";
        let cluster = SigningKey::generate(Algorithm::RS256, "cluster-1");
        let admin = app.admin_token().await;
        let trust = pb::CreateTrustedIssuerRequest { issuer: CLUSTER.into(), jwks: jwks(&[&cluster]), ..Default::default() };
        app.admin.clone().create_trusted_issuer(with_bearer(trust, &admin)).await.unwrap();
        let workload = |id: &str, grants: &[&str]| pb::CreateClientRequest {
            client_id: id.into(),
            allowed_scopes: vec!["orders.read".into()],
            grant_types: grants.iter().map(|grant| grant.to_string()).collect(),
            federated_identities: vec![pb::FederatedIdentity {
                issuer: CLUSTER.into(), subject: "system:serviceaccount:payments:*".into(), ..Default::default()
            }],
            ..Default::default()
        };
        app.admin.clone().create_client(with_bearer(workload("payments-deployer", &[GRANT]), &admin)).await.unwrap();
        app.admin.clone().create_client(with_bearer(workload("payments-cc-only", &[]), &admin)).await.unwrap();
        let now = now();
        let token = |sub: &str| cluster.sign(&json!({
            "iss": CLUSTER, "sub": sub, "aud": app.issuer(), "iat": now, "exp": now + 600,
        }));
        let worker = token("system:serviceaccount:payments:worker");

        let (status, answer) = form(&app, &worker, &[("client_id", "payments-deployer")]).await;
        assert_eq!(status, 200, "{answer}");
        let issued = claims(answer["access_token"].as_str().unwrap());
        assert_eq!(issued["client_id"], "payments-deployer");
        assert_eq!(issued["federated"]["sub"], "system:serviceaccount:payments:worker", "{issued}");
        let grpc = app.tokens.clone().issue_token(pb::IssueTokenRequest {
            grant_type: GRANT.into(), assertion: worker.clone(), client_id: "payments-deployer".into(), ..Default::default()
        }).await.unwrap().into_inner();
        assert_eq!(claims(&grpc.access_token)["federated"]["iss"], CLUSTER, "presented again within its life, over gRPC");

        let (status, answer) = form(&app, &worker, &[]).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "no client named: {answer}");
        let (status, answer) = form(&app, &worker, &[("client_id", "payments-cc-only")]).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("unauthorized_client")), "{answer}");
        let outsider = token("system:serviceaccount:billing:worker");
        let (status, answer) = form(&app, &outsider, &[("client_id", "payments-deployer")]).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")), "no identity matches: {answer}");
        let forged = SigningKey::generate(Algorithm::RS256, "cluster-1").sign(&json!({
            "iss": CLUSTER, "sub": "system:serviceaccount:payments:worker", "aud": app.issuer(), "iat": now, "exp": now + 600,
        }));
        let (status, answer) = form(&app, &forged, &[("client_id", "payments-deployer")]).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")), "not the cluster's key: {answer}");
    }
}
