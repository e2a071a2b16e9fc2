//! Token exchange (RFC 8693) over HTTP and gRPC: a client narrows its own
//! token; a client named for it acts for another client's token, with `act`
//! nesting across hops; everything else is refused with RFC 8693's codes.

use serde_json::{Value, json};
use tokend::{authority::ClientDraft, contract::pb};
use tonic::Code;

use crate::support::helpers::*;

const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// Form parameters beside the grant type.
type Params<'a> = &'a [(&'a str, &'a str)];

/// Registers a client that may reach `audiences`, and delegate to `exchange_audiences`.
async fn client(
    app: &TestApp,
    id: &str,
    scopes: &str,
    audiences: &[&str],
    exchange_audiences: &[&str],
) -> String {
    let draft = ClientDraft {
        client_id: id.into(),
        allowed_scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        default_scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        audiences: audiences.iter().map(|a| a.to_string()).collect(),
        token_exchange_audiences: exchange_audiences.iter().map(|a| a.to_string()).collect(),
        ..ClientDraft::default()
    };
    let (_, secret) = app.registry.create(draft, &Actor::cli()).await.unwrap();
    secret.unwrap().expose().to_owned()
}

/// An exchange at the HTTP token endpoint: its status and JSON answer.
async fn exchange(app: &TestApp, id: &str, secret: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![("grant_type", GRANT)];
    form.extend_from_slice(params);
    app.post_token_form(id, secret, &form).await
}

/// What introspection over HTTP says of `token`, asked by a new client that may see any.
async fn introspected(app: &TestApp, token: &str) -> Value {
    static AUDITORS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let id = format!("auditor-{}", AUDITORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let secret = client(app, &id, "tokend.introspect", &[], &[]).await;
    reqwest::Client::new()
        .post(app.url("/oauth/v2/introspect"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

on_both_stores! {
    async fn a_client_narrows_its_own_token(app) {
        let secret = client(&app, "svc", "read write", &["orders", "billing"], &[]).await;
        let mut request = token_request("svc", &secret, "read write");
        request.audience = vec!["orders".into(), "billing".into()];
        let wide = app.tokens.clone().issue_token(request).await.unwrap().into_inner().access_token;

        let (status, answer) = exchange(&app, "svc", &secret, &[
            ("subject_token", &wide), ("subject_token_type", ACCESS_TOKEN), ("scope", "read"), ("audience", "orders"),
        ]).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!((answer["issued_token_type"].as_str(), answer["token_type"].as_str()), (Some(ACCESS_TOKEN), Some("Bearer")));
        assert_eq!(answer["scope"], "read");
        let narrow = claims(answer["access_token"].as_str().unwrap());
        assert_eq!((narrow["sub"].as_str(), narrow["client_id"].as_str()), (Some("svc"), Some("svc")));
        assert_eq!(narrow["aud"], json!(["orders"]));
        assert!(narrow.get("act").is_none());
        assert!(narrow["exp"].as_i64() <= claims(&wide)["exp"].as_i64(), "no later than the subject token");
        let seen = introspected(&app, answer["access_token"].as_str().unwrap()).await;
        assert_eq!((seen["active"].clone(), seen["scope"].clone()), (json!(true), json!("read")), "signed by tokend and active");

        let cases: [(&[(&str, &str)], &str); 3] = [
            (&[("scope", "read admin")], "invalid_scope"),
            (&[("audience", "payroll")], "invalid_target"),
            (&[("resource", "https://elsewhere")], "invalid_target"),
        ];
        for (extra, code) in cases {
            let mut params = vec![("subject_token", wide.as_str()), ("subject_token_type", ACCESS_TOKEN)];
            params.extend_from_slice(extra);
            let (status, answer) = exchange(&app, "svc", &secret, &params).await;
            assert_eq!((status, answer["error"].as_str()), (400, Some(code)), "{extra:?}: {answer}");
        }
    }

    async fn a_named_client_acts_for_another_and_act_nests_across_hops(app) {
        let user_secret = client(&app, "user-svc", "read", &["gateway"], &[]).await;
        let gateway_secret = client(&app, "gateway", "", &[], &["orders"]).await;
        let orders_secret = client(&app, "orders", "", &[], &["billing"]).await;
        let stranger_secret = client(&app, "stranger", "", &[], &[]).await;
        let user_token = app.token("user-svc", &user_secret, "").await.access_token;

        // Over gRPC: the gateway acts for user-svc towards orders.
        let first = app.tokens.clone().exchange_token(pb::ExchangeTokenRequest {
            client_id: "gateway".into(), client_secret: gateway_secret.clone(),
            subject_token: user_token.clone(), subject_token_type: ACCESS_TOKEN.into(),
            ..Default::default()
        }).await.unwrap().into_inner();
        assert_eq!((first.issued_token_type.as_str(), first.scope.as_str()), (ACCESS_TOKEN, "read"));
        let delegated = claims(&first.access_token);
        assert_eq!((delegated["sub"].as_str(), delegated["client_id"].as_str()), (Some("user-svc"), Some("gateway")));
        assert_eq!(delegated["act"], json!({"sub": "gateway"}));
        assert_eq!(delegated["aud"], json!(["orders"]), "the gateway's token_exchange_audiences");

        // Orders acts next, towards billing: the gateway's act nests inside.
        let (status, answer) = exchange(&app, "orders", &orders_secret, &[
            ("subject_token", &first.access_token), ("subject_token_type", ACCESS_TOKEN), ("audience", "billing"),
        ]).await;
        assert_eq!(status, 200, "{answer}");
        let second = claims(answer["access_token"].as_str().unwrap());
        assert_eq!(second["sub"], "user-svc");
        assert_eq!(second["act"], json!({"sub": "orders", "act": {"sub": "gateway"}}));
        let seen = introspected(&app, answer["access_token"].as_str().unwrap()).await;
        assert_eq!(seen["act"], json!({"sub": "orders", "act": {"sub": "gateway"}}));

        let request = pb::IntrospectRequest { token: first.access_token.clone(), ..Default::default() };
        let answer = app.tokens.clone().introspect(with_basic(request, "gateway", &gateway_secret)).await.unwrap().into_inner();
        assert_eq!(answer.act.unwrap().sub, "gateway");

        // A client not named for it, an audience outside the list, a scope the subject lacks.
        let refusals = [
            ("stranger", &stranger_secret, vec![], Code::PermissionDenied, "unauthorized_client"),
            ("gateway", &gateway_secret, vec!["billing".to_string()], Code::PermissionDenied, "invalid_target"),
        ];
        for (id, secret, audience, code, reason) in refusals {
            let status = app.tokens.clone().exchange_token(pb::ExchangeTokenRequest {
                client_id: id.into(), client_secret: secret.clone(),
                subject_token: user_token.clone(), subject_token_type: ACCESS_TOKEN.into(), audience,
                ..Default::default()
            }).await.unwrap_err();
            assert_error(&status, code, reason);
        }
        let status = app.tokens.clone().exchange_token(pb::ExchangeTokenRequest {
            client_id: "gateway".into(), client_secret: gateway_secret.clone(),
            subject_token: user_token.clone(), subject_token_type: ACCESS_TOKEN.into(), scope: "read write".into(),
            ..Default::default()
        }).await.unwrap_err();
        assert_error(&status, Code::PermissionDenied, "invalid_scope");
    }

    async fn delegated_tokens_end_with_the_client_they_act_for(app) {
        let user_secret = client(&app, "user-svc", "read", &["gateway"], &[]).await;
        let gateway_secret = client(&app, "gateway", "", &[], &["orders"]).await;
        let orders_secret = client(&app, "orders", "", &[], &["billing"]).await;
        let user_token = app.token("user-svc", &user_secret, "").await.access_token;
        let subject = |token: &str| [("subject_token", token.to_owned()), ("subject_token_type", ACCESS_TOKEN.to_owned())];
        let exchanged = |(status, answer): (u16, Value)| {
            assert_eq!(status, 200, "{answer}");
            answer["access_token"].as_str().unwrap().to_owned()
        };
        let params = subject(&user_token);
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let first = exchanged(exchange(&app, "gateway", &gateway_secret, &params).await);
        let params = subject(&first);
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let second = exchanged(exchange(&app, "orders", &orders_secret, &params).await);
        let gateway_own = app.token("gateway", &gateway_secret, "").await.access_token;
        for token in [&first, &second, &gateway_own] {
            assert_eq!(introspected(&app, token).await["active"], true);
        }

        let set_active = |active: bool| tokend::authority::ClientChanges { active: Some(active), ..Default::default() };
        app.registry.update("user-svc", set_active(false), &Actor::cli()).await.unwrap();
        for token in [&first, &second] {
            assert_eq!(introspected(&app, token).await["active"], false, "the client acted for is disabled");
        }
        assert_eq!(introspected(&app, &gateway_own).await["active"], true, "the actor's own tokens live on");
        app.registry.update("user-svc", set_active(true), &Actor::cli()).await.unwrap();
        for token in [&first, &second] {
            assert_eq!(introspected(&app, token).await["active"], false, "enabling it again revives nothing");
        }
        let (status, answer) = exchange(&app, "orders", &orders_secret, &params).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "nor can it be exchanged (RFC 8693 §2.2.2)");
    }

    async fn no_exchange_carries_tokends_own_scopes(app) {
        let admin_secret = client(&app, "ops", "tokend.admin tokend.introspect orders.read", &[], &[]).await;
        // Even towards tokend itself, which a gateway might well be allowed to reach.
        let gateway_secret = client(&app, "gw", "", &[], &[DEFAULT_AUDIENCE]).await;
        let admin_token = app.token("ops", &admin_secret, "").await.access_token;
        let subject = [("subject_token", admin_token.as_str()), ("subject_token_type", ACCESS_TOKEN)];

        let (status, answer) = exchange(&app, "gw", &gateway_secret, &subject).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["scope"], "orders.read", "delegated: tokend's own scopes stay behind");
        let delegated = answer["access_token"].as_str().unwrap().to_owned();
        assert_eq!(claims(&delegated)["scope"], "orders.read");
        let (status, answer) = exchange(&app, "ops", &admin_secret, &subject).await;
        assert_eq!((status, answer["scope"].as_str()), (200, Some("orders.read")), "narrowed: the same: {answer}");

        for (id, secret) in [("gw", &gateway_secret), ("ops", &admin_secret)] {
            let mut params = subject.to_vec();
            params.push(("scope", "tokend.admin"));
            let (status, answer) = exchange(&app, id, secret, &params).await;
            assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_scope")), "{id}: {answer}");
        }
        let list = pb::ListClientsRequest::default();
        let status = app.admin.clone().list_clients(with_bearer(list, &delegated)).await.unwrap_err();
        assert_error(&status, Code::PermissionDenied, "insufficient_scope");
    }

    async fn revoked_foreign_or_malformed_exchanges_are_refused(app) {
        let secret = client(&app, "svc", "read", &["orders"], &[]).await;
        let other_secret = client(&app, "other", "read", &[], &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let others = app.token("other", &other_secret, "").await.access_token;
        let cases: [(Params, u16, &str); 7] = [
            (&[("subject_token", "not-a-token"), ("subject_token_type", ACCESS_TOKEN)], 400, "invalid_request"),
            (&[("subject_token", &token)], 400, "invalid_request"),
            (&[("subject_token", &token), ("subject_token_type", "urn:ietf:params:oauth:token-type:saml2")], 400, "invalid_request"),
            (&[("subject_token", &token), ("subject_token_type", ACCESS_TOKEN), ("requested_token_type", "urn:ietf:params:oauth:token-type:id_token")], 400, "invalid_request"),
            (&[("subject_token", &token), ("subject_token_type", ACCESS_TOKEN), ("actor_token", &others), ("actor_token_type", ACCESS_TOKEN)], 400, "invalid_request"),
            (&[("subject_token", &token), ("subject_token_type", ACCESS_TOKEN), ("actor_token", &token)], 400, "invalid_request"),
            (&[("subject_token_type", ACCESS_TOKEN)], 400, "invalid_request"),
        ];
        for (params, status, code) in cases {
            let (got, answer) = exchange(&app, "svc", &secret, params).await;
            assert_eq!((got, answer["error"].as_str()), (status, Some(code)), "{params:?}: {answer}");
        }
        let (status, answer) = exchange(&app, "svc", "wrong", &[("subject_token", &token), ("subject_token_type", ACCESS_TOKEN)]).await;
        assert_eq!((status, answer["error"].as_str()), (401, Some("invalid_client")));
        let (status, _) = exchange(&app, "svc", &secret, &[
            ("subject_token", &token), ("subject_token_type", ACCESS_TOKEN), ("actor_token", &token), ("actor_token_type", ACCESS_TOKEN),
        ]).await;
        assert_eq!(status, 200, "its own token as the actor");

        app.tokens.clone().revoke(with_basic(pb::RevokeRequest { token: token.clone(), ..Default::default() }, "svc", &secret)).await.unwrap();
        let (status, answer) = exchange(&app, "svc", &secret, &[("subject_token", &token), ("subject_token_type", ACCESS_TOKEN)]).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "a revoked subject token");

        let metadata: Value = reqwest::get(app.url("/.well-known/oauth-authorization-server")).await.unwrap().json().await.unwrap();
        assert!(metadata["grant_types_supported"].as_array().unwrap().contains(&json!(GRANT)));
    }
}
