//! Workload identity federation: workloads with only their platform's token
//! (Kubernetes, GitHub Actions and SPIFFE shapes) get tokens for the client
//! their identity names; every rule has a refusal; trusted issuers are
//! managed over ClientAdmin.

use std::collections::HashMap;

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use tokend::contract::pb;
use tonic::Code;

use crate::{
    support::helpers::*,
    support::signers::{KeyServer, SigningKey, jwks, now},
};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const JWT_SPIFFE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";
const KUBERNETES: &str = "https://kubernetes.default.svc.cluster.local";
const SPIFFE_DOMAIN: &str = "spiffe://prod.acme";

/// An admin's ClientAdmin calls, with its token.
struct Admin<'a> {
    app: &'a TestApp,
    token: String,
}

impl<'a> Admin<'a> {
    async fn new(app: &'a TestApp) -> Self {
        Admin { app, token: app.admin_token().await }
    }

    async fn trust(
        &self,
        request: pb::CreateTrustedIssuerRequest,
    ) -> Result<pb::TrustedIssuer, tonic::Status> {
        Ok(self
            .app
            .admin
            .clone()
            .create_trusted_issuer(with_bearer(request, &self.token))
            .await?
            .into_inner())
    }

    /// Creates a client with these identities and no methods: it has no secret.
    async fn federated_client(&self, id: &str, identities: Vec<pb::FederatedIdentity>) -> pb::Client {
        let request = pb::CreateClientRequest {
            client_id: id.into(),
            allowed_scopes: vec!["deploy".into()],
            default_scopes: vec!["deploy".into()],
            federated_identities: identities,
            ..Default::default()
        };
        let created = self.app.admin.clone().create_client(with_bearer(request, &self.token)).await.unwrap();
        let created = created.into_inner();
        assert_eq!(created.client_secret, "", "a federated client gets no secret");
        created.client.unwrap()
    }
}

fn identity(issuer: &str, subject: &str, claims: &[(&str, &str)]) -> pb::FederatedIdentity {
    pb::FederatedIdentity {
        issuer: issuer.into(),
        subject: subject.into(),
        claims: claims.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>(),
    }
}

/// A projected service-account token as the kubelet writes it.
fn kubernetes_token(app: &TestApp, namespace: &str, name: &str) -> Value {
    let now = now();
    json!({
        "iss": KUBERNETES, "sub": format!("system:serviceaccount:{namespace}:{name}"), "aud": [app.issuer()],
        "iat": now, "nbf": now, "exp": now + 3600,
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": "0b8f"}},
    })
}

fn request(client_id: &str, kind: &str, assertion: &str) -> pb::IssueTokenRequest {
    pb::IssueTokenRequest {
        grant_type: "client_credentials".into(),
        client_id: client_id.into(),
        client_assertion_type: kind.into(),
        client_assertion: assertion.into(),
        ..Default::default()
    }
}

async fn issue(app: &TestApp, client_id: &str, kind: &str, assertion: &str) -> Result<Value, tonic::Status> {
    let response = app.tokens.clone().issue_token(request(client_id, kind, assertion)).await?;
    Ok(claims(&response.into_inner().access_token))
}

async fn refused(app: &TestApp, client_id: &str, assertion: &str, what: &str) {
    let status = issue(app, client_id, JWT_BEARER, assertion).await.expect_err(what);
    assert_error(&status, Code::Unauthenticated, "invalid_client");
    assert_eq!(status.message(), "client authentication failed", "{what}");
}

/// A Kubernetes cluster whose keys are published on loopback, and a client
/// for the payments namespace's service accounts.
async fn kubernetes(app: &TestApp, admin: &Admin<'_>) -> (KeyServer, SigningKey) {
    let cluster = KeyServer::start().await;
    let key = SigningKey::generate(Algorithm::RS256, "cluster-key");
    cluster.serve("/openid/v1/jwks", &jwks(&[&key]), 300);
    admin
        .trust(pb::CreateTrustedIssuerRequest {
            issuer: KUBERNETES.into(),
            jwks_uri: cluster.url("/openid/v1/jwks"),
            ..Default::default()
        })
        .await
        .unwrap();
    let payments =
        identity(KUBERNETES, "system:serviceaccount:payments:*", &[("kubernetes.io.namespace", "payments")]);
    let client = admin.federated_client("payments-deployer", vec![payments]).await;
    assert_eq!(client.token_endpoint_auth_methods, ["none"]);
    let _ = app;
    (cluster, key)
}

on_both_stores! {
    async fn a_kubernetes_workload_gets_tokens_with_its_service_account_token(app) {
        let admin = Admin::new(&app).await;
        let (cluster, key) = kubernetes(&app, &admin).await;
        let token = key.sign(&kubernetes_token(&app, "payments", "worker"));

        let issued = issue(&app, "payments-deployer", JWT_BEARER, &token).await.unwrap();
        assert_eq!(issued["sub"], "payments-deployer");
        assert_eq!(issued["federated"], json!({"iss": KUBERNETES, "sub": "system:serviceaccount:payments:worker"}));
        // A projected token is presented many times in its life: the same one again is accepted,
        // verified from memory.
        issue(&app, "payments-deployer", JWT_BEARER, &token).await.expect("the same token again");
        assert_eq!(cluster.hits("/openid/v1/jwks"), 1);

        // Over HTTP too, and introspection says where the identity came from.
        let form = [
            ("grant_type", "client_credentials"), ("client_id", "payments-deployer"),
            ("client_assertion_type", JWT_BEARER), ("client_assertion", token.as_str()),
        ];
        let http = reqwest::Client::new();
        let response: Value = http.post(app.url("/oauth/v2/token")).form(&form).send().await.unwrap().json().await.unwrap();
        let access_token = response["access_token"].as_str().expect("a token over HTTP");
        let introspected = app.tokens.clone()
            .introspect(with_bearer(pb::IntrospectRequest { token: access_token.into(), ..Default::default() }, access_token))
            .await.unwrap().into_inner();
        assert_eq!(introspected.federated.unwrap().sub, "system:serviceaccount:payments:worker");
    }

    async fn a_platform_token_that_breaks_a_rule_is_refused_alike(app) {
        let admin = Admin::new(&app).await;
        let (_cluster, key) = kubernetes(&app, &admin).await;
        let stranger = SigningKey::generate(Algorithm::RS256, "cluster-key");
        let with = |change: &dyn Fn(&mut Value)| {
            let mut claims = kubernetes_token(&app, "payments", "worker");
            change(&mut claims);
            key.sign(&claims)
        };
        let now = now();
        let cases = [
            (key.sign(&kubernetes_token(&app, "orders", "worker")), "another namespace's service account"),
            (with(&|c| c["sub"] = json!("system:serviceaccount:payments:a:b")), "a subject the pattern does not match"),
            (with(&|c| c["kubernetes.io"]["namespace"] = json!("orders")), "a claim that differs"),
            (with(&|c| { c.as_object_mut().unwrap().remove("kubernetes.io"); }), "a claim that is missing"),
            (with(&|c| c["aud"] = json!(["https://kubernetes.default.svc"])), "the cluster's own audience"),
            (with(&|c| c["exp"] = json!(now - 1)), "expired"),
            (with(&|c| c["iat"] = json!(now - 7200)), "older than the issuer allows"),
            (with(&|c| c["iss"] = json!("https://untrusted.example")), "an issuer not trusted"),
            (stranger.sign(&kubernetes_token(&app, "payments", "worker")), "signed by another key"),
        ];
        for (token, what) in &cases {
            refused(&app, "payments-deployer", token, what).await;
        }
        // A client whose identities do not name the workload.
        let secret = app.create_client("bystander", "deploy", "", &[]).await;
        let _ = secret;
        refused(&app, "bystander", &key.sign(&kubernetes_token(&app, "payments", "worker")), "a client without the identity").await;
        // Without client_id the token does not say which client it acts as.
        let status = issue(&app, "", JWT_BEARER, &key.sign(&kubernetes_token(&app, "payments", "worker"))).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "invalid_request");
    }

    async fn a_removed_issuer_or_identity_ends_acceptance_even_for_a_token_seen_before(app) {
        let admin = Admin::new(&app).await;
        let (_cluster, key) = kubernetes(&app, &admin).await;
        let token = key.sign(&kubernetes_token(&app, "payments", "worker"));
        issue(&app, "payments-deployer", JWT_BEARER, &token).await.expect("accepted at first");

        let update = pb::UpdateClientRequest {
            client: Some(pb::Client { client_id: "payments-deployer".into(), ..Default::default() }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["federated_identities".into()] }),
        };
        let updated = app.admin.clone().update_client(with_bearer(update, &admin.token)).await.unwrap().into_inner();
        assert!(updated.federated_identities.is_empty());
        assert_eq!(updated.token_endpoint_auth_methods, ["none"], "removing the identities adds no secret");
        refused(&app, "payments-deployer", &token, "the identity was removed").await;

        let identity = identity(KUBERNETES, "system:serviceaccount:payments:worker", &[]);
        admin.federated_client("payments-other", vec![identity]).await;
        issue(&app, "payments-other", JWT_BEARER, &token).await.expect("an exact subject");
        let delete = pb::DeleteTrustedIssuerRequest { issuer: KUBERNETES.into() };
        app.admin.clone().delete_trusted_issuer(with_bearer(delete, &admin.token)).await.unwrap();
        refused(&app, "payments-other", &token, "the issuer is no longer trusted").await;
    }

    async fn a_github_actions_job_gets_tokens_with_keys_found_by_discovery(app) {
        let admin = Admin::new(&app).await;
        let github = KeyServer::start().await;
        let key = SigningKey::generate(Algorithm::RS256, "gh-1");
        github.serve("/.well-known/jwks", &jwks(&[&key]), 300);
        github.serve_discovery("/.well-known/jwks");
        admin.trust(pb::CreateTrustedIssuerRequest {
            issuer: github.base().into(),
            discovery: true,
            audiences: vec!["https://github.com/acme".into()],
            max_assertion_lifetime_seconds: 600,
            ..Default::default()
        }).await.unwrap();
        let main = identity(github.base(), "repo:acme/orders:ref:refs/heads/main", &[("repository_owner", "acme")]);
        admin.federated_client("orders-ci", vec![main]).await;

        let now = now();
        let job = |sub: &str| json!({
            "iss": github.base(), "sub": sub, "aud": "https://github.com/acme", "iat": now, "nbf": now,
            "exp": now + 300, "repository": "acme/orders", "repository_owner": "acme", "ref": "refs/heads/main",
        });
        let issued = issue(&app, "orders-ci", JWT_BEARER, &key.sign(&job("repo:acme/orders:ref:refs/heads/main"))).await.unwrap();
        assert_eq!(issued["federated"]["iss"], github.base());
        refused(&app, "orders-ci", &key.sign(&job("repo:acme/orders:ref:refs/heads/feature")), "another branch").await;
        refused(&app, "orders-ci", &key.sign(&job("repo:acme/orders:pull_request")), "a pull request").await;
        assert_eq!(github.hits("/.well-known/openid-configuration"), 1);
    }

    async fn a_spiffe_jwt_svid_authenticates_a_client(app) {
        let admin = Admin::new(&app).await;
        let bundle = SigningKey::generate(Algorithm::ES256, "spire-1");
        admin.trust(pb::CreateTrustedIssuerRequest {
            issuer: SPIFFE_DOMAIN.into(),
            jwks: jwks(&[&bundle]),
            ..Default::default()
        }).await.unwrap();
        let workloads = identity(SPIFFE_DOMAIN, "spiffe://prod.acme/ns/payments/**", &[]);
        admin.federated_client("payments-mesh", vec![workloads]).await;
        let now = now();
        let svid = |sub: &str| bundle.sign(&json!({
            "iss": SPIFFE_DOMAIN, "sub": sub, "aud": [app.issuer()], "iat": now, "exp": now + 300,
        }));
        let issued = issue(&app, "payments-mesh", JWT_SPIFFE, &svid("spiffe://prod.acme/ns/payments/sa/worker")).await.unwrap();
        assert_eq!(issued["federated"]["sub"], "spiffe://prod.acme/ns/payments/sa/worker");
        let status = issue(&app, "payments-mesh", JWT_SPIFFE, &svid("spiffe://prod.acme/ns/orders/sa/worker")).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_client");
        // A JWT-SVID from a domain tokend does not trust is refused, not taken for private_key_jwt.
        let other = SigningKey::generate(Algorithm::ES256, "k");
        let foreign = other.sign(&json!({"iss": "payments-mesh", "sub": "payments-mesh", "aud": app.issuer(), "exp": now + 60, "jti": "x"}));
        let status = issue(&app, "payments-mesh", JWT_SPIFFE, &foreign).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_client");
    }

    async fn a_single_use_issuer_accepts_each_token_once(app) {
        let admin = Admin::new(&app).await;
        let key = SigningKey::generate(Algorithm::ES256, "ci-1");
        let created = admin.trust(pb::CreateTrustedIssuerRequest {
            issuer: "https://ci.acme.example".into(),
            jwks: jwks(&[&key]),
            single_use: true,
            ..Default::default()
        }).await.unwrap();
        assert!(created.single_use);
        admin.federated_client("ci-deployer", vec![identity("https://ci.acme.example", "pipeline:*", &[])]).await;
        let now = now();
        let job = |jti: Option<&str>| {
            let mut claims = json!({"iss": "https://ci.acme.example", "sub": "pipeline:deploy", "aud": app.issuer(),
                "iat": now, "exp": now + 300});
            if let Some(jti) = jti {
                claims["jti"] = json!(jti);
            }
            key.sign(&claims)
        };
        let token = job(Some("run-1"));
        issue(&app, "ci-deployer", JWT_BEARER, &token).await.expect("the first use");
        refused(&app, "ci-deployer", &token, "the same token again").await;
        refused(&app, "ci-deployer", &job(None), "a token without jti").await;
        issue(&app, "ci-deployer", JWT_BEARER, &job(Some("run-2"))).await.expect("the next job's token");
    }

    async fn trusted_issuers_are_managed_over_client_admin(app) {
        let admin = Admin::new(&app).await;
        let key = SigningKey::generate(Algorithm::ES256, "k");
        let created = admin.trust(pb::CreateTrustedIssuerRequest {
            issuer: SPIFFE_DOMAIN.into(),
            jwks: jwks(&[&key]),
            audiences: vec!["payments".into()],
            ..Default::default()
        }).await.unwrap();
        assert_eq!(created.max_assertion_lifetime_seconds, 3600);
        assert!(created.create_time.is_some());

        let again = admin.trust(pb::CreateTrustedIssuerRequest { issuer: SPIFFE_DOMAIN.into(), discovery: true, ..Default::default() }).await;
        assert_eq!(again.unwrap_err().code(), Code::InvalidArgument, "discovery needs an https issuer");
        let twice = admin.trust(pb::CreateTrustedIssuerRequest { issuer: SPIFFE_DOMAIN.into(), jwks: jwks(&[&key]), ..Default::default() }).await;
        assert_eq!(twice.unwrap_err().code(), Code::AlreadyExists);
        let both = admin.trust(pb::CreateTrustedIssuerRequest {
            issuer: "https://both.example".into(), jwks: jwks(&[&key]), jwks_uri: "https://both.example/jwks".into(), ..Default::default()
        }).await;
        assert_eq!(both.unwrap_err().code(), Code::InvalidArgument);

        let mut client = app.admin.clone();
        let got = client.get_trusted_issuer(with_bearer(pb::GetTrustedIssuerRequest { issuer: SPIFFE_DOMAIN.into() }, &admin.token)).await.unwrap().into_inner();
        assert_eq!(got.audiences, ["payments"]);
        let listed = client.list_trusted_issuers(with_bearer(pb::ListTrustedIssuersRequest {}, &admin.token)).await.unwrap().into_inner();
        assert_eq!(listed.trusted_issuers.len(), 1);
        client.delete_trusted_issuer(with_bearer(pb::DeleteTrustedIssuerRequest { issuer: SPIFFE_DOMAIN.into() }, &admin.token)).await.unwrap();
        let gone = client.get_trusted_issuer(with_bearer(pb::GetTrustedIssuerRequest { issuer: SPIFFE_DOMAIN.into() }, &admin.token)).await;
        assert_eq!(gone.unwrap_err().code(), Code::NotFound);
        let unauthenticated = client.list_trusted_issuers(pb::ListTrustedIssuersRequest {}).await;
        assert_eq!(unauthenticated.unwrap_err().code(), Code::Unauthenticated);
    }
}
