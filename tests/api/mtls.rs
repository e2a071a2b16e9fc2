//! Client authentication by certificate (RFC 8705 §2) and certificate-bound
//! tokens (§3): clients with no secret get bound tokens over gRPC and HTTPS;
//! every mismatch is `invalid_client`; secret clients keep working.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use prost_types::FieldMask;
use serde_json::Value;
use tokend::contract::pb::{
    self, client_admin_client::ClientAdminClient, token_service_client::TokenServiceClient,
};
use tonic::{
    Code,
    transport::{Certificate, Channel, ClientTlsConfig, Identity},
};

use crate::support::helpers::*;

const SPIFFE_ID: &str = "spiffe://example.org/ns/orders/sa/worker";

/// The `x5t#S256` of a certificate, worked out here rather than by the server's code.
fn thumbprint(certificate: &ClientCertificate) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &certificate.der))
}

/// A JWK Set whose one key carries `certificate` in `x5c`.
fn jwks_listing(certificate: &ClientCertificate) -> String {
    let x5c = base64::engine::general_purpose::STANDARD.encode(&certificate.der);
    serde_json::json!({"keys": [{"kty": "EC", "x5c": [x5c]}]}).to_string()
}

/// A TLS server on `backend` whose client CA is `pki`'s CA.
async fn server(backend: Backend, pki: &TestPki) -> Option<TestApp> {
    pki.write_server_certificate("server");
    TestApp::spawn_tls(backend, pki, "server").await
}

/// A gRPC client of `app` that presents `identity`, if any.
async fn grpc(
    app: &TestApp,
    pki: &TestPki,
    identity: Option<&ClientCertificate>,
) -> TokenServiceClient<Channel> {
    TokenServiceClient::new(channel(app, pki, identity).await)
}

/// A TLS channel to `app` that presents `identity`, if any.
async fn channel(app: &TestApp, pki: &TestPki, identity: Option<&ClientCertificate>) -> Channel {
    let mut tls =
        ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pki.ca_pem())).domain_name("localhost");
    if let Some(identity) = identity {
        tls = tls.identity(Identity::from_pem(&identity.cert_pem, &identity.key_pem));
    }
    Channel::from_shared(app.issuer().to_owned()).unwrap().tls_config(tls).unwrap().connect().await.unwrap()
}

/// An HTTPS client that presents `identity`, if any.
fn https(pki: &TestPki, identity: Option<&ClientCertificate>) -> reqwest::Client {
    reqwest::Client::builder().use_preconfigured_tls(client_tls(&pki.ca_pem(), identity)).build().unwrap()
}

/// Registers a client through ClientAdmin; returns the secret CreateClient answered.
async fn register(app: &TestApp, admin: &str, request: pb::CreateClientRequest) -> String {
    let created = app.admin.clone().create_client(with_bearer(request, admin)).await.expect("registered");
    created.into_inner().client_secret
}

fn certificate_client(id: &str, methods: &[&str]) -> pb::CreateClientRequest {
    pb::CreateClientRequest {
        client_id: id.into(),
        allowed_scopes: vec!["orders.read".into()],
        default_scopes: vec!["orders.read".into()],
        token_endpoint_auth_methods: methods.iter().map(|m| m.to_string()).collect(),
        ..Default::default()
    }
}

/// Asks for a token over gRPC naming `id` and presenting no secret.
async fn grpc_token(client: &mut TokenServiceClient<Channel>, id: &str) -> Result<String, tonic::Status> {
    Ok(client.issue_token(token_request(id, "", "")).await?.into_inner().access_token)
}

on_both_stores! {
    async fn a_workload_with_only_a_certificate_gets_bound_tokens(backend: Backend) {
        let pki = TestPki::new();
        let Some(app) = server(backend, &pki).await else {
            return;
        };
        let admin = app.admin_token().await;
        let workload = pki.client_certificate(ClientNames { uris: &[SPIFFE_ID], ..Default::default() });
        let request = pb::CreateClientRequest {
            tls_client_auth_san_uri: SPIFFE_ID.into(),
            tls_client_certificate_bound_access_tokens: true,
            ..certificate_client("orders-worker", &["tls_client_auth"])
        };
        assert_eq!(register(&app, &admin, request).await, "", "a certificate-only client gets no secret");

        let token =
            grpc_token(&mut grpc(&app, &pki, Some(&workload)).await, "orders-worker").await.expect("a token");
        assert_eq!(claims(&token)["cnf"]["x5t#S256"], thumbprint(&workload));
        assert_eq!(claims(&token)["client_id"], "orders-worker");

        let answer: Value = https(&pki, Some(&workload))
            .post(app.url("/oauth/v2/token"))
            .form(&[("grant_type", "client_credentials"), ("client_id", "orders-worker")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = answer["access_token"].as_str().expect("a token over HTTPS");
        assert_eq!(claims(token)["cnf"]["x5t#S256"], thumbprint(&workload));

        // Introspection by the workload itself, authenticated by its certificate.
        let introspected: Value = https(&pki, Some(&workload))
            .post(app.url("/oauth/v2/introspect"))
            .form(&[("token", token), ("client_id", "orders-worker")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(introspected["active"], true);
        assert_eq!(introspected["cnf"]["x5t#S256"], thumbprint(&workload));
        let auditor = app.create_client("auditor", "tokend.introspect", "", &[]).await;
        let introspect =
            pb::IntrospectRequest { token: token.into(), token_type_hint: String::new(), signed_response: false };
        let answer = app
            .tokens
            .clone()
            .introspect(with_basic(introspect, "auditor", &auditor))
            .await
            .unwrap()
            .into_inner();
        assert!(answer.active);
        assert_eq!(answer.cnf.map(|cnf| cnf.x5t_s256), Some(thumbprint(&workload)));

        let rotate = pb::RotateSecretRequest { client_id: "orders-worker".into(), grace_seconds: 0 };
        let status = app.admin.clone().rotate_secret(with_bearer(rotate, &admin)).await.unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    }
}

#[tokio::test]
async fn each_certificate_method_accepts_the_certificate_it_names() {
    let pki = TestPki::new();
    let app = server(Backend::Sqlite, &pki).await.unwrap();
    let admin = app.admin_token().await;
    let by_dn = pki.client_certificate(ClientNames {
        subject: &[("C", "DE"), ("O", "Example Corp"), ("CN", "billing")],
        ..Default::default()
    });
    let by_dns =
        pki.client_certificate(ClientNames { dns: &["ledger.internal.example"], ..Default::default() });
    let self_signed = ClientNames { subject: &[("CN", "edge")], ..Default::default() }.self_signed();
    let jwks = jwks_listing(&self_signed);
    let clients = [
        pb::CreateClientRequest {
            tls_client_auth_subject_dn: "cn=Billing, o=example corp, c=DE".into(),
            ..certificate_client("billing", &["tls_client_auth"])
        },
        pb::CreateClientRequest {
            tls_client_auth_san_dns: "LEDGER.internal.example".into(),
            ..certificate_client("ledger", &["tls_client_auth", "client_secret_basic"])
        },
        pb::CreateClientRequest {
            jwks: jwks.clone(),
            ..certificate_client("edge", &["self_signed_tls_client_auth"])
        },
    ];
    for client in clients {
        register(&app, &admin, client).await;
    }
    for (id, certificate) in [("billing", &by_dn), ("ledger", &by_dns), ("edge", &self_signed)] {
        let token = grpc_token(&mut grpc(&app, &pki, Some(certificate)).await, id)
            .await
            .unwrap_or_else(|status| panic!("{id} was refused: {status:?}"));
        assert_eq!(claims(&token)["sub"], id);
        assert!(claims(&token).get("cnf").is_none(), "{id} did not ask for bound tokens");
    }
}

#[tokio::test]
async fn every_certificate_that_does_not_fit_is_an_invalid_client() {
    let pki = TestPki::new();
    let app = server(Backend::Sqlite, &pki).await.unwrap();
    let admin = app.admin_token().await;
    let listed = ClientNames { subject: &[("CN", "listed")], ..Default::default() }.self_signed();
    let jwks = jwks_listing(&listed);
    let clients = [
        pb::CreateClientRequest {
            tls_client_auth_san_uri: SPIFFE_ID.into(),
            ..certificate_client("orders-worker", &["tls_client_auth"])
        },
        pb::CreateClientRequest {
            tls_client_auth_subject_dn: "CN=billing,O=Example".into(),
            ..certificate_client("billing", &["tls_client_auth"])
        },
        pb::CreateClientRequest { jwks, ..certificate_client("edge", &["self_signed_tls_client_auth"]) },
    ];
    for client in clients {
        register(&app, &admin, client).await;
    }

    let foreign = TestPki::new();
    let cases = [
        (
            "orders-worker",
            Some(pki.client_certificate(ClientNames {
                uris: &["spiffe://example.org/other"],
                ..Default::default()
            })),
            "another SAN",
        ),
        (
            "orders-worker",
            Some(foreign.client_certificate(ClientNames { uris: &[SPIFFE_ID], ..Default::default() })),
            "a foreign CA",
        ),
        (
            "orders-worker",
            Some(pki.client_certificate(ClientNames {
                uris: &[SPIFFE_ID],
                expired: true,
                ..Default::default()
            })),
            "an expired certificate",
        ),
        (
            "orders-worker",
            Some(ClientNames { uris: &[SPIFFE_ID], ..Default::default() }.self_signed()),
            "a self-signed one with the SAN",
        ),
        ("orders-worker", None, "no certificate"),
        (
            "billing",
            Some(pki.client_certificate(ClientNames {
                subject: &[("O", "Example"), ("CN", "billing2")],
                ..Default::default()
            })),
            "another DN",
        ),
        (
            "billing",
            Some(pki.client_certificate(ClientNames {
                subject: &[("CN", "billing"), ("O", "Example")],
                ..Default::default()
            })),
            "the DN in another order",
        ),
        (
            "edge",
            Some(ClientNames { subject: &[("CN", "listed")], ..Default::default() }.self_signed()),
            "a self-signed one not in jwks",
        ),
        (
            "edge",
            Some(pki.client_certificate(ClientNames { subject: &[("CN", "listed")], ..Default::default() })),
            "a CA-signed one for a self-signed client",
        ),
    ];
    for (id, certificate, what) in cases {
        let status = grpc_token(&mut grpc(&app, &pki, certificate.as_ref()).await, id)
            .await
            .expect_err(&format!("{what} was accepted for {id}"));
        assert_error(&status, Code::Unauthenticated, "invalid_client");
        assert_eq!(
            status.message(),
            "client authentication failed",
            "{what}: the same words whatever failed"
        );
    }
    // The fitting ones do work, so the refusals above are about the certificates.
    grpc_token(&mut grpc(&app, &pki, Some(&listed)).await, "edge").await.expect("the listed certificate");
    let billing = pki.client_certificate(ClientNames {
        subject: &[("O", "Example"), ("CN", "billing")],
        ..Default::default()
    });
    grpc_token(&mut grpc(&app, &pki, Some(&billing)).await, "billing").await.expect("the registered DN");
}

#[tokio::test]
async fn a_secret_client_with_bound_tokens_needs_a_certificate_and_gets_its_token_bound() {
    let pki = TestPki::new();
    let app = server(Backend::Sqlite, &pki).await.unwrap();
    let admin = app.admin_token().await;
    let secret = register(
        &app,
        &admin,
        pb::CreateClientRequest {
            tls_client_certificate_bound_access_tokens: true,
            ..certificate_client("payments", &[])
        },
    )
    .await;
    assert!(secret.starts_with("tokend_"), "a secret client gets a secret");

    let status =
        grpc(&app, &pki, None).await.issue_token(token_request("payments", &secret, "")).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "invalid_client");

    let any = ClientNames { subject: &[("CN", "payments")], ..Default::default() }.self_signed();
    let mut client = grpc(&app, &pki, Some(&any)).await;
    let token =
        client.issue_token(token_request("payments", &secret, "")).await.expect("secret and certificate");
    assert_eq!(claims(&token.into_inner().access_token)["cnf"]["x5t#S256"], thumbprint(&any));
    // The certificate alone is not a way in for a client that only has secrets.
    let status = grpc_token(&mut client, "payments").await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "invalid_client");

    // Its tokens are bound to the certificate: a DPoP proof beside it is refused.
    let key = crate::support::dpop::DpopKey::generate(jsonwebtoken::Algorithm::ES256);
    let htu = format!("{}/tokend.v1.TokenService/IssueToken", app.issuer());
    let mut request = tonic::Request::new(token_request("payments", &secret, ""));
    request.metadata_mut().insert("dpop", key.proof(&htu).parse().unwrap());
    let status = client.issue_token(request).await.unwrap_err();
    assert_error(&status, Code::InvalidArgument, "invalid_request");
    assert!(status.message().contains("bound to its certificate"), "{}", status.message());
}

#[tokio::test]
async fn a_bound_token_works_on_tokends_own_apis_and_in_exchanges_only_with_its_certificate() {
    let pki = TestPki::new();
    let app = server(Backend::Sqlite, &pki).await.unwrap();
    let admin = app.admin_token().await;
    let request = pb::CreateClientRequest {
        tls_client_certificate_bound_access_tokens: true,
        allowed_scopes: vec!["tokend.admin".into(), "orders.read".into()],
        default_scopes: vec!["tokend.admin".into(), "orders.read".into()],
        ..certificate_client("bound-admin", &[])
    };
    let secret = register(&app, &admin, request).await;
    let gateway = pb::CreateClientRequest {
        token_exchange_audiences: vec!["api1".into()],
        ..certificate_client("gateway", &[])
    };
    let gateway_secret = register(&app, &admin, gateway).await;
    let holder = ClientNames { subject: &[("CN", "bound-admin")], ..Default::default() }.self_signed();
    let thief = ClientNames { subject: &[("CN", "thief")], ..Default::default() }.self_signed();
    let token = grpc(&app, &pki, Some(&holder))
        .await
        .issue_token(token_request("bound-admin", &secret, ""))
        .await
        .unwrap()
        .into_inner()
        .access_token;
    assert_eq!(claims(&token)["cnf"]["x5t#S256"], thumbprint(&holder));

    let list = || with_bearer(pb::ListClientsRequest::default(), &token);
    let introspect =
        |identity| https(&pki, identity).post(app.url("/oauth/v2/introspect")).bearer_auth(&token);
    let exchange = |client_id: &str, secret: &str| pb::ExchangeTokenRequest {
        client_id: client_id.into(),
        client_secret: secret.into(),
        subject_token: token.clone(),
        subject_token_type: "urn:ietf:params:oauth:token-type:access_token".into(),
        ..Default::default()
    };
    for identity in [None, Some(&thief)] {
        let admin_api = ClientAdminClient::new(channel(&app, &pki, identity).await);
        let status = admin_api.clone().list_clients(list()).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_token");
        let response = introspect(identity).form(&[("token", token.as_str())]).send().await.unwrap();
        assert_eq!(response.status(), 401, "introspection by a copy of the bound token");
        let response = https(&pki, identity)
            .post(app.url("/tokend.v1.ClientAdmin/ListClients"))
            .bearer_auth(&token)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "ClientAdmin over Connect");
        let status = grpc(&app, &pki, identity)
            .await
            .exchange_token(exchange("gateway", &gateway_secret))
            .await
            .unwrap_err();
        assert_error(&status, Code::InvalidArgument, "invalid_request");
    }

    ClientAdminClient::new(channel(&app, &pki, Some(&holder)).await)
        .list_clients(list())
        .await
        .expect("the holder");
    let response = introspect(Some(&holder)).form(&[("token", token.as_str())]).send().await.unwrap();
    assert_eq!(response.json::<Value>().await.unwrap()["active"], true);
    let narrowed = grpc(&app, &pki, Some(&holder))
        .await
        .exchange_token(exchange("bound-admin", &secret))
        .await
        .expect("the holder narrows its own token")
        .into_inner();
    assert_eq!(claims(&narrowed.access_token)["cnf"]["x5t#S256"], thumbprint(&holder), "and it stays bound");
}

#[tokio::test]
async fn a_secret_is_accepted_only_the_way_the_client_registered() {
    let pki = TestPki::new();
    let app = server(Backend::Sqlite, &pki).await.unwrap();
    let admin = app.admin_token().await;
    let secret = register(&app, &admin, certificate_client("basic-only", &["client_secret_basic"])).await;
    let mut client = grpc(&app, &pki, None).await;
    let status = client.issue_token(token_request("basic-only", &secret, "")).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "invalid_client");
    let mut request = token_request("", "", "");
    request.client_id.clear();
    client.issue_token(with_basic(request, "basic-only", &secret)).await.expect("Basic is its method");
}

#[tokio::test]
async fn registration_metadata_is_checked_returned_and_updated() {
    let pki = TestPki::new();
    let app = server(Backend::Sqlite, &pki).await.unwrap();
    let admin = app.admin_token().await;
    let refusals = [
        certificate_client("a", &["tls_client_auth"]),
        certificate_client("a", &["private_key_jwt"]),
        pb::CreateClientRequest {
            tls_client_auth_san_dns: "a.example".into(),
            tls_client_auth_san_uri: SPIFFE_ID.into(),
            ..certificate_client("a", &["tls_client_auth"])
        },
        pb::CreateClientRequest {
            tls_client_auth_subject_dn: "CN=a,XX=b".into(),
            ..certificate_client("a", &["tls_client_auth"])
        },
        pb::CreateClientRequest {
            jwks: "{\"keys\":[]}".into(),
            ..certificate_client("a", &["self_signed_tls_client_auth"])
        },
        pb::CreateClientRequest {
            tls_client_auth_san_dns: "a.example".into(),
            ..certificate_client("a", &[])
        },
    ];
    for request in refusals {
        let status = app.admin.clone().create_client(with_bearer(request.clone(), &admin)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{request:?} gave {status:?}");
    }

    let request = pb::CreateClientRequest {
        tls_client_auth_subject_dn: "CN=orders, O=Example".into(),
        ..certificate_client("orders", &["tls_client_auth"])
    };
    app.admin.clone().create_client(with_bearer(request, &admin)).await.unwrap();
    let get = pb::GetClientRequest { client_id: "orders".into() };
    let client = app.admin.clone().get_client(with_bearer(get, &admin)).await.unwrap().into_inner();
    assert_eq!(client.token_endpoint_auth_methods, ["tls_client_auth"]);
    assert_eq!(client.tls_client_auth_subject_dn, "CN=orders, O=Example", "kept as written");
    assert!(client.secrets.is_empty());

    let update = pb::UpdateClientRequest {
        client: Some(pb::Client {
            client_id: "orders".into(),
            token_endpoint_auth_methods: vec!["tls_client_auth".into(), "client_secret_post".into()],
            tls_client_certificate_bound_access_tokens: true,
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec![
                "token_endpoint_auth_methods".into(),
                "tls_client_certificate_bound_access_tokens".into(),
            ],
        }),
    };
    let updated = app.admin.clone().update_client(with_bearer(update, &admin)).await.unwrap().into_inner();
    assert_eq!(updated.token_endpoint_auth_methods, ["client_secret_post", "tls_client_auth"]);
    assert!(updated.tls_client_certificate_bound_access_tokens);
    assert_eq!(updated.tls_client_auth_subject_dn, "CN=orders, O=Example", "untouched by the mask");
    let rotate = pb::RotateSecretRequest { client_id: "orders".into(), grace_seconds: 0 };
    let rotated = app
        .admin
        .clone()
        .rotate_secret(with_bearer(rotate, &admin))
        .await
        .expect("now it has a secret method");
    assert!(!rotated.into_inner().client_secret.is_empty());
}

#[tokio::test]
async fn discovery_offers_the_certificate_methods_only_over_tls() {
    let pki = TestPki::new();
    let app = server(Backend::Sqlite, &pki).await.unwrap();
    let metadata: Value = https(&pki, None)
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["tls_client_certificate_bound_access_tokens"], true);
    let methods = metadata["token_endpoint_auth_methods_supported"].as_array().unwrap();
    assert!(
        methods.contains(&"tls_client_auth".into())
            && methods.contains(&"self_signed_tls_client_auth".into())
    );

    let plain = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let metadata: Value = reqwest::get(plain.url("/.well-known/oauth-authorization-server"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["tls_client_certificate_bound_access_tokens"], false);
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "private_key_jwt"])
    );
}
