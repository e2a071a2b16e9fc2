//! ClientAdmin: authorisation, and the client lifecycle end to end.

use prost_types::FieldMask;
use tokend::contract::pb;
use tonic::Code;

use crate::support::helpers::*;

fn new_client(id: &str) -> pb::CreateClientRequest {
    pb::CreateClientRequest {
        client_id: id.into(),
        display_name: format!("{id} service"),
        allowed_scopes: vec!["orders.read".into(), "orders.write".into()],
        default_scopes: vec!["orders.read".into()],
        audiences: vec!["orders-api".into()],
        token_ttl_seconds: 600,
        ..Default::default()
    }
}

/// Claims naming `iss`, which only tokend sets.
fn reserved_claim() -> tokend::grpc::EncodedStruct {
    wire_struct(serde_json::json!({"iss": "me"}))
}

fn get(id: &str) -> pb::GetClientRequest {
    pb::GetClientRequest { client_id: id.into() }
}

on_both_stores! {
    async fn tokends_own_apis_accept_only_tokens_meant_for_tokend(app) {
        let issuer = app.issuer().to_owned();
        let secret = app.create_client("orders-admin", "tokend.admin", "tokend.admin", &["orders", DEFAULT_AUDIENCE, &issuer]).await;
        let token_for = |audience: &str| {
            let mut request = token_request("orders-admin", &secret, "");
            request.audience = vec![audience.to_owned()];
            let mut tokens = app.tokens.clone();
            async move { tokens.issue_token(request).await.unwrap().into_inner().access_token }
        };
        let foreign = token_for("orders").await;
        assert_eq!(claims(&foreign)["aud"], serde_json::json!(["orders"]));

        let status = app.admin.clone().list_clients(with_bearer(pb::ListClientsRequest::default(), &foreign)).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_token");
        let connect = reqwest::Client::new()
            .post(app.url("/tokend.v1.ClientAdmin/ListClients"))
            .bearer_auth(&foreign)
            .json(&serde_json::json!({}))
            .send().await.unwrap();
        assert_eq!(connect.status(), 401);
        let introspect = reqwest::Client::new()
            .post(app.url("/oauth/v2/introspect"))
            .bearer_auth(&foreign)
            .form(&[("token", foreign.as_str())])
            .send().await.unwrap();
        assert_eq!(introspect.status(), 401);
        let body: serde_json::Value = introspect.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token");
        let revoke = pb::RevokeRequest { token: foreign.clone(), ..Default::default() };
        let status = app.tokens.clone().revoke(with_bearer(revoke, &foreign)).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_token");

        for audience in [DEFAULT_AUDIENCE, issuer.as_str()] {
            let own = token_for(audience).await;
            app.admin.clone().list_clients(with_bearer(pb::ListClientsRequest::default(), &own)).await
                .unwrap_or_else(|status| panic!("a token for {audience}: {status:?}"));
        }
    }

    async fn without_a_token_admin_calls_are_unauthenticated(app) {
        let status = app.admin.clone().get_client(get("x")).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_token");
        let status = app.admin.clone().get_client(with_bearer(get("x"), "garbage")).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_token");
    }

    async fn client_credentials_do_not_open_the_admin_api(app) {
        let secret = app.create_client("root", "tokend.admin", "tokend.admin", &[]).await;
        let status = app.admin.clone().get_client(with_basic(get("root"), "root", &secret)).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_token");
    }

    async fn a_token_without_the_admin_scope_is_permission_denied(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let status = app.admin.clone().get_client(with_bearer(get("svc"), &token)).await.unwrap_err();
        assert_error(&status, Code::PermissionDenied, "insufficient_scope");
    }

    async fn a_created_client_gets_tokens_with_the_secret_shown_once(app) {
        let admin = app.admin_token().await;
        let created = app.admin.clone().create_client(with_bearer(new_client("orders-worker"), &admin)).await.unwrap().into_inner();
        let client = created.client.unwrap();
        assert_eq!(client.client_id, "orders-worker");
        assert_eq!(client.display_name, "orders-worker service");
        assert_eq!(client.allowed_scopes, ["orders.read", "orders.write"]);
        assert_eq!(client.default_scopes, ["orders.read"]);
        assert_eq!(client.audiences, ["orders-api"]);
        assert_eq!(client.token_ttl_seconds, 600);
        assert!(client.active);
        assert!(client.create_time.is_some() && client.update_time.is_some());
        assert_eq!(client.secrets.len(), 1);
        assert!(created.client_secret.starts_with(&format!("tokend_{}", client.secrets[0].secret_id)));

        let issued = app.token("orders-worker", &created.client_secret, "").await;
        assert_eq!(issued.scope, "orders.read");
        assert_eq!(issued.expires_in, 600);

        // The use is written down off the request path, so it may land just after the token.
        let mut fetched = app.admin.clone().get_client(with_bearer(get("orders-worker"), &admin)).await.unwrap().into_inner();
        for _ in 0..50 {
            if fetched.secrets[0].last_used_time.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            fetched = app.admin.clone().get_client(with_bearer(get("orders-worker"), &admin)).await.unwrap().into_inner();
        }
        assert_eq!(fetched.client_id, "orders-worker");
        assert!(!format!("{fetched:?}").contains(&created.client_secret[16..]));
        let used = fetched.secrets[0].last_used_time.expect("the secret's use was recorded");
        assert!(used.seconds >= fetched.secrets[0].create_time.unwrap().seconds);
    }

    async fn a_duplicate_client_id_already_exists(app) {
        let admin = app.admin_token().await;
        app.admin.clone().create_client(with_bearer(new_client("dup"), &admin)).await.unwrap();
        let status = app.admin.clone().create_client(with_bearer(new_client("dup"), &admin)).await.unwrap_err();
        assert_error(&status, Code::AlreadyExists, "already_exists");
    }

    async fn invalid_ids_scopes_and_lifetimes_are_invalid_arguments(app) {
        let admin = app.admin_token().await;
        let mut bad_id = new_client("no spaces allowed");
        bad_id.client_id = "no spaces allowed".into();
        let mut bad_scope = new_client("svc");
        bad_scope.allowed_scopes = vec!["has\"quote".into()];
        let mut stray_default = new_client("svc");
        stray_default.default_scopes = vec!["billing.read".into()];
        let mut bad_ttl = new_client("svc");
        bad_ttl.token_ttl_seconds = 5;
        for request in [bad_id, bad_scope, stray_default, bad_ttl] {
            let status = app.admin.clone().create_client(with_bearer(request.clone(), &admin)).await.unwrap_err();
            assert_error(&status, Code::InvalidArgument, "invalid_argument");
        }
        // A bad token exchange audience is named as one, not taken for the client's own audiences.
        let mut bad_exchange = new_client("svc");
        bad_exchange.token_exchange_audiences = vec!["café".into()];
        let status = app.admin.clone().create_client(with_bearer(bad_exchange, &admin)).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "invalid_argument");
        assert!(status.message().starts_with("token_exchange_audiences: audience \"café\""), "{}", status.message());
    }

    async fn each_refused_client_field_is_named_as_a_bad_request_violation(app) {
        let admin = app.admin_token().await;
        let with = |edit: &dyn Fn(&mut pb::CreateClientRequest)| {
            let mut request = new_client("svc");
            edit(&mut request);
            request
        };
        let identity = pb::FederatedIdentity { issuer: String::new(), subject: "x".into(), ..Default::default() };
        let cases: Vec<(&str, pb::CreateClientRequest)> = vec![
            ("client_id", with(&|r| r.client_id = "no spaces".into())),
            ("display_name", with(&|r| r.display_name = "bell\u{7}".into())),
            ("allowed_scopes", with(&|r| r.allowed_scopes = vec!["has\"quote".into()])),
            ("default_scopes", with(&|r| r.default_scopes = vec!["billing.read".into()])),
            ("audiences", with(&|r| r.audiences = vec!["café".into()])),
            ("token_ttl_seconds", with(&|r| r.token_ttl_seconds = 5)),
            ("token_endpoint_auth_methods", with(&|r| r.token_endpoint_auth_methods = vec!["telepathy".into()])),
            ("tls_client_auth_subject_dn", with(&|r| r.tls_client_auth_subject_dn = "not a DN".into())),
            ("tls_client_auth_san_dns", with(&|r| r.tls_client_auth_san_dns = "not a name!".into())),
            ("tls_client_auth_san_uri", with(&|r| r.tls_client_auth_san_uri = "not a uri".into())),
            ("claims", with(&|r| r.claims = Some(reserved_claim()))),
            ("jwks", with(&|r| r.jwks = "not json".into())),
            ("jwks_uri", with(&|r| r.jwks_uri = "ftp://keys".into())),
            ("rate_limit_burst", with(&|r| { r.rate_limit_per_second = 0; r.rate_limit_burst = 5 })),
            ("secret_max_age_seconds", with(&|r| r.secret_max_age_seconds = -1)),
            ("federated_identities", with(&|r| r.federated_identities = vec![identity.clone()])),
            ("token_exchange_audiences", with(&|r| r.token_exchange_audiences = vec!["café".into()])),
        ];
        for (field, request) in cases {
            let status = app.admin.clone().create_client(with_bearer(request, &admin)).await.unwrap_err();
            assert_error(&status, Code::InvalidArgument, "invalid_argument");
            let details = tonic_types::StatusExt::get_error_details(&status);
            let violations = details.bad_request().map(|bad| bad.field_violations.clone()).unwrap_or_default();
            let named: Vec<&str> = violations.iter().map(|violation| violation.field.as_str()).collect();
            assert_eq!(named, [field], "{}", status.message());
        }
        let huge_grace = pb::RotateSecretRequest { client_id: "svc".into(), grace_seconds: -1 };
        let status = app.admin.clone().rotate_secret(with_bearer(huge_grace, &admin)).await.unwrap_err();
        let details = tonic_types::StatusExt::get_error_details(&status);
        assert_eq!(details.bad_request().unwrap().field_violations[0].field, "grace_seconds");
    }

    async fn a_missing_client_is_not_found(app) {
        let admin = app.admin_token().await;
        let status = app.admin.clone().get_client(with_bearer(get("ghost"), &admin)).await.unwrap_err();
        assert_error(&status, Code::NotFound, "not_found");
        let delete = pb::DeleteClientRequest { client_id: "ghost".into() };
        let status = app.admin.clone().delete_client(with_bearer(delete, &admin)).await.unwrap_err();
        assert_error(&status, Code::NotFound, "not_found");
    }

    async fn clients_page_in_a_stable_order(app) {
        let admin = app.admin_token().await;
        for id in ["c-3", "c-1", "c-5", "c-2", "c-4"] {
            app.admin.clone().create_client(with_bearer(new_client(id), &admin)).await.unwrap();
        }
        let mut seen = Vec::new();
        let mut page_token = String::new();
        let mut pages = 0;
        loop {
            let request = pb::ListClientsRequest { page_size: 2, page_token: page_token.clone(), ..Default::default() };
            let page = app.admin.clone().list_clients(with_bearer(request, &admin)).await.unwrap().into_inner();
            assert!(page.clients.len() <= 2);
            assert!(page.clients.iter().all(|c| c.secrets.len() == 1), "each page carries secret metadata");
            seen.extend(page.clients.into_iter().map(|c| c.client_id));
            pages += 1;
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        assert_eq!(seen, ["c-1", "c-2", "c-3", "c-4", "c-5", "root-admin"]);
        assert_eq!(pages, 3);
    }

    async fn a_bad_page_token_or_size_is_an_invalid_argument(app) {
        let admin = app.admin_token().await;
        let request = pb::ListClientsRequest { page_size: 0, page_token: "***".into(), ..Default::default() };
        let status = app.admin.clone().list_clients(with_bearer(request, &admin)).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "invalid_argument");
        let request = pb::ListClientsRequest { page_size: -1, page_token: String::new(), ..Default::default() };
        let status = app.admin.clone().list_clients(with_bearer(request, &admin)).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "invalid_argument");
    }

    async fn an_update_changes_only_the_masked_fields(app) {
        let admin = app.admin_token().await;
        app.admin.clone().create_client(with_bearer(new_client("svc"), &admin)).await.unwrap();
        let update = pb::UpdateClientRequest {
            client: Some(pb::Client { client_id: "svc".into(), display_name: "renamed".into(), ..Default::default() }),
            update_mask: Some(FieldMask { paths: vec!["display_name".into()] }),
        };
        let client = app.admin.clone().update_client(with_bearer(update, &admin)).await.unwrap().into_inner();
        assert_eq!(client.display_name, "renamed");
        assert_eq!(client.allowed_scopes, ["orders.read", "orders.write"]);
        assert!(client.active);
    }

    async fn an_update_without_a_mask_or_with_an_unknown_path_is_refused(app) {
        let admin = app.admin_token().await;
        app.admin.clone().create_client(with_bearer(new_client("svc"), &admin)).await.unwrap();
        for mask in [None, Some(FieldMask { paths: vec!["secret".into()] })] {
            let update = pb::UpdateClientRequest {
                client: Some(pb::Client { client_id: "svc".into(), ..Default::default() }),
                update_mask: mask,
            };
            let status = app.admin.clone().update_client(with_bearer(update, &admin)).await.unwrap_err();
            assert_error(&status, Code::InvalidArgument, "invalid_argument");
        }
    }

    async fn disabling_a_client_through_an_update_stops_its_tokens(app) {
        let admin = app.admin_token().await;
        let created = app.admin.clone().create_client(with_bearer(new_client("svc"), &admin)).await.unwrap().into_inner();
        let update = pb::UpdateClientRequest {
            client: Some(pb::Client { client_id: "svc".into(), active: false, ..Default::default() }),
            update_mask: Some(FieldMask { paths: vec!["active".into()] }),
        };
        let client = app.admin.clone().update_client(with_bearer(update, &admin)).await.unwrap().into_inner();
        assert!(!client.active);
        let status = app.tokens.clone().issue_token(token_request("svc", &created.client_secret, "")).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_client");
    }

    async fn rotating_without_grace_ends_the_old_secret_at_once(app) {
        let admin = app.admin_token().await;
        let created = app.admin.clone().create_client(with_bearer(new_client("svc"), &admin)).await.unwrap().into_inner();
        let rotate = pb::RotateSecretRequest { client_id: "svc".into(), grace_seconds: 0 };
        let rotated = app.admin.clone().rotate_secret(with_bearer(rotate, &admin)).await.unwrap().into_inner();
        assert_ne!(rotated.client_secret, created.client_secret);
        assert_eq!(rotated.client.unwrap().secrets.len(), 1);
        let status = app.tokens.clone().issue_token(token_request("svc", &created.client_secret, "")).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_client");
        app.token("svc", &rotated.client_secret, "").await;
    }

    async fn rotating_with_grace_keeps_both_secrets_working(app) {
        let admin = app.admin_token().await;
        let created = app.admin.clone().create_client(with_bearer(new_client("svc"), &admin)).await.unwrap().into_inner();
        let rotate = pb::RotateSecretRequest { client_id: "svc".into(), grace_seconds: 3600 };
        let rotated = app.admin.clone().rotate_secret(with_bearer(rotate, &admin)).await.unwrap().into_inner();
        let secrets = rotated.client.unwrap().secrets;
        assert_eq!(secrets.len(), 2);
        let names = |secret: &str, info: &pb::SecretInfo| secret.starts_with(&format!("tokend_{}", info.secret_id));
        let old = secrets.iter().find(|s| names(&created.client_secret, s)).unwrap();
        let new = secrets.iter().find(|s| names(&rotated.client_secret, s)).unwrap();
        assert!(old.expire_time.is_some());
        assert!(new.expire_time.is_none());
        app.token("svc", &created.client_secret, "").await;
        app.token("svc", &rotated.client_secret, "").await;
    }

    async fn a_negative_or_huge_grace_is_an_invalid_argument(app) {
        let admin = app.admin_token().await;
        app.admin.clone().create_client(with_bearer(new_client("svc"), &admin)).await.unwrap();
        for grace_seconds in [-1, 10 * 365 * 24 * 3600] {
            let rotate = pb::RotateSecretRequest { client_id: "svc".into(), grace_seconds };
            let status = app.admin.clone().rotate_secret(with_bearer(rotate, &admin)).await.unwrap_err();
            assert_error(&status, Code::InvalidArgument, "invalid_argument");
        }
    }

    async fn a_deleted_client_is_gone_and_cannot_get_tokens(app) {
        let admin = app.admin_token().await;
        let created = app.admin.clone().create_client(with_bearer(new_client("svc"), &admin)).await.unwrap().into_inner();
        let delete = pb::DeleteClientRequest { client_id: "svc".into() };
        app.admin.clone().delete_client(with_bearer(delete, &admin)).await.unwrap();
        let status = app.admin.clone().get_client(with_bearer(get("svc"), &admin)).await.unwrap_err();
        assert_error(&status, Code::NotFound, "not_found");
        let status = app.tokens.clone().issue_token(token_request("svc", &created.client_secret, "")).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_client");
    }
}
