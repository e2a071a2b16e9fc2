//! Transaction Tokens (draft-ietf-oauth-transaction-tokens-10) over HTTP,
//! gRPC and Connect: a registered requester turns an access token (or a
//! subject it states) into a Txn-Token for its trust domain, narrowed and
//! short-lived; a workload further down replaces one, keeping what the
//! chain must not change; every other request is refused with its code.

use serde_json::{Value, json};
use tokend::{authority::ClientDraft, contract::pb};
use tonic::Code;

use crate::support::{
    helpers::*,
    scrape::{get, scrape},
};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const TXN_TOKEN: &str = "urn:ietf:params:oauth:token-type:txn_token";
const UNSIGNED_JSON: &str = "urn:ietf:params:oauth:token-type:unsigned_json";

/// Registers a client with `scopes` (its defaults too) for `audiences`, a
/// Transaction Token requester when `requester`; returns its secret.
async fn client(app: &TestApp, id: &str, scopes: &str, audiences: &[&str], requester: bool) -> String {
    let words = |text: &str| text.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let draft = ClientDraft {
        client_id: id.into(),
        allowed_scopes: words(scopes),
        default_scopes: words(scopes),
        audiences: audiences.iter().map(|a| a.to_string()).collect(),
        txn_token_requester: requester,
        ..ClientDraft::default()
    };
    let (_, secret) = app.registry.create(draft, &Actor::cli()).await.unwrap();
    secret.unwrap().expose().to_owned()
}

/// A Txn-Token Request at the HTTP token endpoint as `id`: its status and JSON answer.
async fn request(app: &TestApp, id: &str, secret: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![("grant_type", GRANT), ("requested_token_type", TXN_TOKEN)];
    form.extend_from_slice(params);
    app.post_token_form(id, secret, &form).await
}

/// A user's access token (client "web-user", scopes `trade.read trade.write`, audience "gateway").
async fn user_token(app: &TestApp) -> String {
    let secret = client(app, "web-user", "trade.read trade.write", &["gateway"], false).await;
    app.token("web-user", &secret, "").await.access_token
}

on_both_stores! {
    async fn the_edge_turns_an_access_token_into_a_narrow_short_txn_token(app) {
        let subject = user_token(&app).await;
        let gateway = client(&app, "gateway", "", &[], true).await;
        let trust_domain = app.issuer().to_owned();
        let (status, answer) = request(&app, "gateway", &gateway, &[
            ("subject_token", &subject), ("subject_token_type", ACCESS_TOKEN),
            ("audience", &trust_domain), ("scope", "trade.read"),
            ("request_context", r#"{"req_ip":"192.0.2.7","authn":"pwd"}"#),
            ("request_details", r#"{"action":"BUY","ticker":"MSFT","quantity":"100"}"#),
        ]).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!((answer["token_type"].as_str(), answer["issued_token_type"].as_str()), (Some("N_A"), Some(TXN_TOKEN)));
        assert_eq!(answer["scope"], "trade.read");
        let token = answer["access_token"].as_str().unwrap();
        assert_eq!(header(token)["typ"], "txntoken+jwt");
        let txn = claims(token);
        assert_eq!((txn["sub"].as_str(), txn["aud"].as_str(), txn["req_wl"].as_str()), (Some("web-user"), Some(trust_domain.as_str()), Some("gateway")));
        assert_eq!(txn["scope"], "trade.read", "narrowed as asked, never widened");
        assert_eq!(txn["rctx"], json!({"req_ip": "192.0.2.7", "authn": "pwd"}));
        assert_eq!(txn["tctx"], json!({"action": "BUY", "ticker": "MSFT", "quantity": "100"}));
        assert_eq!(txn["txn"].as_str().unwrap().len(), 22, "128 random bits");
        assert_eq!(txn["exp"].as_i64().unwrap() - txn["iat"].as_i64().unwrap(), 300, "five minutes by default");
        assert!(txn.get("client_id").is_none() && txn.get("jti").is_none() && txn.get("status").is_none());

        // Not an access token: introspection does not know it, and it is no subject of an ordinary exchange.
        let introspect = client(&app, "auditor", "tokend.introspect", &[], false).await;
        let seen: Value = reqwest::Client::new().post(app.url("/oauth/v2/introspect")).basic_auth("auditor", Some(&introspect))
            .form(&[("token", token)]).send().await.unwrap().json().await.unwrap();
        assert_eq!(seen, json!({"active": false}));
        let (status, answer) = request(&app, "gateway", &gateway, &[
            ("subject_token", token), ("subject_token_type", ACCESS_TOKEN), ("audience", &trust_domain), ("scope", "trade.read"),
        ]).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "{answer}");
    }

    async fn only_registered_requesters_get_one_and_every_bad_request_has_its_code(app) {
        let subject = user_token(&app).await;
        let gateway = client(&app, "gateway", "", &[], true).await;
        let stranger = client(&app, "stranger", "trade.read", &[], false).await;
        let domain = app.issuer().to_owned();
        let base = [("subject_token", subject.as_str()), ("subject_token_type", ACCESS_TOKEN)];
        let (status, answer) = request(&app, "stranger", &stranger, &[base[0], base[1], ("audience", &domain), ("scope", "trade.read")]).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("unauthorized_client")), "{answer}");
        let cases: [(&[(&str, &str)], &str); 6] = [
            (&[("audience", &domain), ("scope", "trade.read admin")], "invalid_scope"),
            (&[("audience", &domain)], "invalid_request"),
            (&[("scope", "trade.read")], "invalid_request"),
            (&[("audience", "elsewhere"), ("scope", "trade.read")], "invalid_target"),
            (&[("audience", &domain), ("scope", "trade.read"), ("request_context", "[1,2]")], "invalid_request"),
            (&[("audience", &domain), ("scope", "trade.read"), ("request_details", "{not json")], "invalid_request"),
        ];
        for (extra, code) in cases {
            let mut params = base.to_vec();
            params.extend_from_slice(extra);
            let (status, answer) = request(&app, "gateway", &gateway, &params).await;
            assert_eq!((status, answer["error"].as_str()), (400, Some(code)), "{extra:?}: {answer}");
        }
        let (status, answer) = request(&app, "gateway", &gateway, &[
            ("subject_token", "not-a-token"), ("subject_token_type", ACCESS_TOKEN), ("audience", &domain), ("scope", "trade.read"),
        ]).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "{answer}");
    }

    async fn a_replacement_keeps_txn_sub_and_tctx_narrows_and_never_outlives_the_original(app) {
        let subject = user_token(&app).await;
        let gateway = client(&app, "gateway", "", &[], true).await;
        let orders = client(&app, "orders", "", &[], true).await;
        let ledger = client(&app, "ledger", "", &[], false).await;
        let domain = app.issuer().to_owned();
        let (_, first) = request(&app, "gateway", &gateway, &[
            ("subject_token", &subject), ("subject_token_type", ACCESS_TOKEN), ("audience", &domain),
            ("scope", "trade.read trade.write"), ("request_context", r#"{"req_ip":"192.0.2.7"}"#),
            ("request_details", r#"{"action":"BUY"}"#),
        ]).await;
        let original = first["access_token"].as_str().unwrap().to_owned();

        // Over gRPC this time: orders replaces it for itself, narrower, with its own context added.
        let replaced = app.tokens.clone().exchange_token(pb::ExchangeTokenRequest {
            client_id: "orders".into(), client_secret: orders.clone(),
            subject_token: original.clone(), subject_token_type: TXN_TOKEN.into(),
            requested_token_type: TXN_TOKEN.into(), audience: vec![domain.clone()], scope: "trade.write".into(),
            request_context: r#"{"req_ip":"10.9.9.9","region":"eu"}"#.into(),
            ..Default::default()
        }).await.unwrap().into_inner();
        assert_eq!((replaced.token_type.as_str(), replaced.issued_token_type.as_str()), ("N_A", TXN_TOKEN));
        let (before, after) = (claims(&original), claims(&replaced.access_token));
        for kept in ["txn", "sub", "aud", "tctx"] {
            assert_eq!(before[kept], after[kept], "{kept} is the chain's, unchanged");
        }
        assert_eq!(after["scope"], "trade.write");
        assert_eq!(after["req_wl"], "orders");
        assert_eq!(after["rctx"], json!({"req_ip": "192.0.2.7", "region": "eu", "req_wl_chain": ["gateway"]}), "added to, never changed");
        assert!(after["exp"].as_i64() <= before["exp"].as_i64(), "never longer-lived than the original");

        // Widening is refused, and so is a workload not registered as a requester.
        let widen = |id: &str, secret: &str, scope: &str| pb::ExchangeTokenRequest {
            client_id: id.into(), client_secret: secret.into(),
            subject_token: replaced.access_token.clone(), subject_token_type: TXN_TOKEN.into(),
            requested_token_type: TXN_TOKEN.into(), audience: vec![domain.clone()], scope: scope.into(),
            ..Default::default()
        };
        let refused = app.tokens.clone().exchange_token(widen("orders", &orders, "trade.read")).await.unwrap_err();
        assert_error(&refused, Code::PermissionDenied, "invalid_scope");
        let refused = app.tokens.clone().exchange_token(widen("ledger", &ledger, "trade.write")).await.unwrap_err();
        assert_error(&refused, Code::PermissionDenied, "unauthorized_client");
        // A forged one (a changed claim) is no Transaction Token of this trust domain.
        let mut forged_claims = after.clone();
        forged_claims["scope"] = json!("trade.read trade.write admin");
        let parts: Vec<&str> = replaced.access_token.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], base64url(&forged_claims), parts[2]);
        let mut request = widen("orders", &orders, "trade.write");
        request.subject_token = forged;
        let refused = app.tokens.clone().exchange_token(request).await.unwrap_err();
        assert_error(&refused, Code::InvalidArgument, "invalid_request");

        // A transaction does not outlive the workload that started it.
        let disabled = tokend::authority::ClientChanges { active: Some(false), ..Default::default() };
        app.registry.update("gateway", disabled, &Actor::cli()).await.unwrap();
        let mut again = widen("orders", &orders, "trade.write");
        again.subject_token = original.clone();
        let refused = app.tokens.clone().exchange_token(again).await.unwrap_err();
        assert_error(&refused, Code::InvalidArgument, "invalid_request");
        assert!(refused.message().contains("requester"), "{}", refused.message());
    }

    async fn a_stated_subject_is_bounded_by_the_requesters_own_scopes_and_connect_speaks_it(app) {
        let gateway = client(&app, "gateway", "jobs.run", &[], true).await;
        let domain = app.issuer().to_owned();
        let body = json!({
            "clientId": "gateway", "clientSecret": gateway,
            "subjectToken": r#"{"sub":"nightly-batch"}"#, "subjectTokenType": UNSIGNED_JSON,
            "requestedTokenType": TXN_TOKEN, "audience": [domain], "scope": "jobs.run",
            "requestDetails": r#"{"job":"reindex"}"#,
        });
        let http = reqwest::Client::new();
        let answer: Value = http.post(app.url("/tokend.v1.TokenService/ExchangeToken")).json(&body).send().await.unwrap().json().await.unwrap();
        assert_eq!(answer["issuedTokenType"], TXN_TOKEN, "{answer}");
        let txn = claims(answer["accessToken"].as_str().unwrap());
        assert_eq!((txn["sub"].as_str(), txn["tctx"]["job"].as_str()), (Some("nightly-batch"), Some("reindex")));
        let mut wider = body.clone();
        wider["scope"] = json!("jobs.run jobs.delete");
        let refused = http.post(app.url("/tokend.v1.TokenService/ExchangeToken")).json(&wider).send().await.unwrap();
        assert_eq!(refused.status(), 403);
        let said: Value = refused.json().await.unwrap();
        assert!(said["message"].as_str().unwrap().contains("requester's allowed scopes"), "names the rule broken: {said}");

        // The chain of requesters is tokend's to write: a first request cannot claim one.
        let mut forged = body.clone();
        forged["requestContext"] = json!(r#"{"req_wl_chain":["trusted-edge"],"region":"eu"}"#);
        let answer: Value = http.post(app.url("/tokend.v1.TokenService/ExchangeToken")).json(&forged).send().await.unwrap().json().await.unwrap();
        let txn = claims(answer["accessToken"].as_str().unwrap());
        assert_eq!(txn["rctx"], json!({"region": "eu"}), "{txn}");

        // A stated subject is one line of text.
        let mut broken = body.clone();
        broken["subjectToken"] = json!("{\"sub\":\"batch\\nadmin\"}");
        let refused = http.post(app.url("/tokend.v1.TokenService/ExchangeToken")).json(&broken).send().await.unwrap();
        assert_eq!(refused.status(), 400);

        // RFC 9700 §4.15: a stated subject never names another client.
        client(&app, "ledger", "", &[], false).await;
        let mut impersonating = body.clone();
        impersonating["subjectToken"] = json!(r#"{"sub":"ledger"}"#);
        let refused = http.post(app.url("/tokend.v1.TokenService/ExchangeToken")).json(&impersonating).send().await.unwrap();
        assert_eq!(refused.status(), 400);

        let samples = scrape(&app.url("/metrics")).await;
        let issued = r#"tokend_tokens_issued_total{client_id="gateway",protocol="connect",token_type="txn_token"}"#;
        assert_eq!(get(&samples, issued), 2.0, "the first and the one without the claimed chain");
    }

    async fn an_administrator_makes_a_client_a_requester_through_the_update_mask(app) {
        let subject = user_token(&app).await;
        let gateway = client(&app, "gateway", "", &[], false).await;
        let domain = app.issuer().to_owned();
        let params = [("subject_token", subject.as_str()), ("subject_token_type", ACCESS_TOKEN), ("audience", &domain), ("scope", "trade.read")];
        let (status, answer) = request(&app, "gateway", &gateway, &params).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("unauthorized_client")), "{answer}");

        let admin = app.admin_token().await;
        let change = pb::UpdateClientRequest {
            client: Some(pb::Client { client_id: "gateway".into(), txn_token_requester: true, ..Default::default() }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["txn_token_requester".into()] }),
        };
        let updated = app.admin.clone().update_client(with_bearer(change, &admin)).await.unwrap().into_inner();
        assert!(updated.txn_token_requester);
        let (status, answer) = request(&app, "gateway", &gateway, &params).await;
        assert_eq!(status, 200, "a requester from now on: {answer}");
    }

    async fn a_txn_token_never_outlives_its_subject(app) {
        let draft = ClientDraft {
            client_id: "brief".into(),
            allowed_scopes: vec!["trade.read".into()],
            default_scopes: vec!["trade.read".into()],
            token_ttl_seconds: 60,
            ..ClientDraft::default()
        };
        let (_, secret) = app.registry.create(draft, &Actor::cli()).await.unwrap();
        let subject = app.token("brief", secret.unwrap().expose(), "").await.access_token;
        let gateway = client(&app, "gateway", "", &[], true).await;
        let domain = app.issuer().to_owned();
        let (status, answer) = request(&app, "gateway", &gateway, &[
            ("subject_token", &subject), ("subject_token_type", ACCESS_TOKEN), ("audience", &domain), ("scope", "trade.read"),
        ]).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(claims(answer["access_token"].as_str().unwrap())["exp"], claims(&subject)["exp"]);
        assert!(answer["expires_in"].as_i64().unwrap() <= 60);
    }
}

/// base64url without padding of `value`'s JSON.
fn base64url(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}
