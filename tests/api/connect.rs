//! The contract over the Connect protocol: JSON (and protobuf) bodies posted
//! to `/tokend.v1.Service/Method` with plain reqwest, answered by the same
//! services as gRPC, errors in Connect's shape with gRPC's reasons.

use prost::Message;
use reqwest::{Response, header::CONTENT_TYPE};
use serde_json::{Value, json};
use tokend::contract::pb;

use crate::support::helpers::*;

async fn post(app: &TestApp, method: &str, bearer: Option<&str>, body: &Value) -> Response {
    let request = reqwest::Client::new().post(app.url(&format!("/tokend.v1.{method}"))).json(body);
    let request = match bearer {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.unwrap()
}

/// Status and JSON body of a Connect call.
async fn call(app: &TestApp, method: &str, bearer: Option<&str>, body: Value) -> (u16, Value) {
    let response = post(app, method, bearer, &body).await;
    let status = response.status().as_u16();
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    (status, response.json().await.unwrap())
}

/// The OAuth reason of a Connect error, from its `google.rpc.ErrorInfo` detail.
fn reason(error: &Value) -> &str {
    let info = error["details"].as_array().unwrap().iter().find(|d| d["type"] == "google.rpc.ErrorInfo");
    let info = info.expect("an ErrorInfo detail");
    assert!(!info["value"].as_str().unwrap().is_empty(), "the detail's protobuf bytes are there too");
    assert_eq!(info["debug"]["domain"], "tokend");
    info["debug"]["reason"].as_str().unwrap()
}

on_both_stores! {
    async fn a_client_gets_and_introspects_a_token_over_connect_json(app) {
        let secret = app.create_client("svc", "read write", "read", &["orders"]).await;
        let (status, issued) = call(&app, "TokenService/IssueToken", None, json!({
            "grantType": "client_credentials", "clientId": "svc", "clientSecret": secret, "scope": "write",
        })).await;
        assert_eq!(status, 200, "{issued}");
        assert_eq!((issued["tokenType"].as_str(), issued["scope"].as_str()), (Some("Bearer"), Some("write")));
        assert!(issued["expiresIn"].as_str().unwrap().parse::<i64>().unwrap() > 0, "int64 is a JSON string");
        let token = issued["accessToken"].as_str().unwrap();
        assert_eq!(claims(token)["client_id"], "svc");

        // A bearer token for orders is not for tokend: the client introspects with its secret.
        let (status, answer) =
            call(&app, "TokenService/Introspect", Some(token), json!({ "token": token })).await;
        assert_eq!((status, reason(&answer)), (401, "invalid_token"), "{answer}");
        let response = reqwest::Client::new()
            .post(app.url("/tokend.v1.TokenService/Introspect"))
            .basic_auth("svc", Some(&secret))
            .json(&json!({ "token": token }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.unwrap();
        assert_eq!((answer["active"].clone(), answer["clientId"].clone()), (json!(true), json!("svc")));
        assert_eq!(answer["aud"], json!(["orders"]));

        // Proto field names are read too, as the JSON mapping asks.
        let (status, _) = call(&app, "TokenService/IssueToken", None, json!({
            "grant_type": "client_credentials", "client_id": "svc", "client_secret": secret,
        })).await;
        assert_eq!(status, 200);
    }

    async fn an_administrator_manages_clients_over_connect(app) {
        let admin = app.admin_token().await;
        let admin = Some(admin.as_str());
        let (status, created) = call(&app, "ClientAdmin/CreateClient", admin, json!({
            "clientId": "billing-api", "displayName": "Billing", "allowedScopes": ["read"], "tokenTtlSeconds": "600",
        })).await;
        assert_eq!(status, 200, "{created}");
        let secret = created["clientSecret"].as_str().unwrap().to_owned();
        assert_eq!(created["client"]["tokenTtlSeconds"], "600");
        assert_eq!(created["client"]["secrets"].as_array().unwrap().len(), 1);
        app.create_client("orders-api", "read", "", &[]).await;

        let (_, page) = call(&app, "ClientAdmin/ListClients", admin, json!({ "clientIdPrefix": "bill" })).await;
        let ids: Vec<_> = page["clients"].as_array().unwrap().iter().map(|c| c["clientId"].clone()).collect();
        assert_eq!(ids, vec![json!("billing-api")]);

        // A field mask in the JSON mapping: lowerCamelCase paths, comma separated.
        let (status, updated) = call(&app, "ClientAdmin/UpdateClient", admin, json!({
            "client": { "clientId": "billing-api", "allowedScopes": ["read", "write"], "defaultScopes": ["read"] },
            "updateMask": "allowedScopes,defaultScopes",
        })).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["allowedScopes"], json!(["read", "write"]));
        assert_eq!(updated["displayName"], "Billing", "fields outside the mask are kept");
        assert_eq!(app.token("billing-api", &secret, "write").await.scope, "write");

        let (status, rotated) =
            call(&app, "ClientAdmin/RotateSecret", admin, json!({ "clientId": "billing-api", "graceSeconds": "60" })).await;
        assert_eq!(status, 200, "{rotated}");
        assert_eq!(rotated["client"]["secrets"].as_array().unwrap().len(), 2);

        let (status, deleted) = call(&app, "ClientAdmin/DeleteClient", admin, json!({ "clientId": "billing-api" })).await;
        assert_eq!((status, deleted), (200, json!({})));
        let (status, gone) = call(&app, "ClientAdmin/GetClient", admin, json!({ "clientId": "billing-api" })).await;
        assert_eq!((status, gone["code"].as_str(), reason(&gone)), (404, Some("not_found"), "not_found"));

        // The audit trail names the administrator and the caller's address.
        let (_, events) = call(&app, "AuditService/ListEvents", admin, json!({ "types": ["client_created"], "clientId": "billing-api" })).await;
        let event = &events["events"].as_array().unwrap()[0];
        assert_eq!((event["target"].as_str(), event["actor"].as_str()), (Some("billing-api"), Some("root-admin")));
        assert_eq!(event["origin"], "127.0.0.1", "the connection's address reaches the service: {event}");

        let (status, keys) = call(&app, "ClientAdmin/ListSigningKeys", admin, json!({})).await;
        assert_eq!(status, 200, "{keys}");
        let key = &keys["signingKeys"][0];
        assert_eq!((key["algorithm"].as_str(), key["state"].as_str()), (Some("ES256"), Some("SIGNING")));
        assert!(key["activeTime"].as_str().unwrap().ends_with('Z'), "timestamps in RFC 3339");
    }

    async fn failures_come_in_connect_shape_with_the_oauth_reason(app) {
        let secret = app.create_client("svc", "read", "", &[]).await;
        let admin = app.admin_token().await;
        let admin = Some(admin.as_str());

        let (status, error) = call(&app, "TokenService/IssueToken", None, json!({
            "grantType": "client_credentials", "clientId": "svc", "clientSecret": "wrong",
        })).await;
        assert_eq!((status, error["code"].as_str(), reason(&error)), (401, Some("unauthenticated"), "invalid_client"));
        assert!(!error["message"].as_str().unwrap().contains("wrong"), "{error}");

        let (status, error) = call(&app, "TokenService/IssueToken", None, json!({
            "grantType": "client_credentials", "clientId": "svc", "clientSecret": secret, "scope": "admin",
        })).await;
        assert_eq!((status, error["code"].as_str(), reason(&error)), (403, Some("permission_denied"), "invalid_scope"));

        let (status, error) = call(&app, "ClientAdmin/ListClients", None, json!({})).await;
        assert_eq!((status, error["code"].as_str()), (401, Some("unauthenticated")));
        let (status, error) = call(&app, "ClientAdmin/CreateClient", admin, json!({ "clientId": "svc" })).await;
        assert_eq!((status, error["code"].as_str(), reason(&error)), (409, Some("already_exists"), "already_exists"));
        let (status, error) =
            call(&app, "ClientAdmin/CreateClient", admin, json!({ "clientId": "new", "allowedScopes": ["bad\"scope"] })).await;
        assert_eq!((status, error["code"].as_str()), (400, Some("invalid_argument")));
        assert!(error["message"].as_str().unwrap().starts_with(r#"scope "bad\"scope" is not"#), "names the scope: {error}");

        let (status, error) = call(&app, "ClientAdmin/GetClient", admin, json!({ "clientId": "svc", "color": "red" })).await;
        assert_eq!((status, error["code"].as_str(), reason(&error)), (400, Some("invalid_argument"), "invalid_request"));
        assert!(error["message"].as_str().unwrap().contains("color"), "names the unknown field: {error}");
        let (status, error) = call(&app, "ClientAdmin/GetClient", admin, json!({ "clientId": 7 })).await;
        assert_eq!((status, error["code"].as_str()), (400, Some("invalid_argument")));
    }
}

#[tokio::test]
async fn the_wire_is_checked_before_any_service_runs() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let http = reqwest::Client::new();
    let url = app.url("/tokend.v1.ClientAdmin/ListClients");
    let json_error = |response: Response| async move {
        let status = response.status().as_u16();
        let accept_post = response.headers().get("accept-post").map(|v| v.to_str().unwrap().to_owned());
        (status, accept_post, response.json::<Value>().await.unwrap())
    };

    let (status, accept, error) =
        json_error(http.post(&url).header(CONTENT_TYPE, "text/plain").body("{}").send().await.unwrap()).await;
    assert_eq!((status, accept.as_deref()), (415, Some("application/json, application/proto")));
    assert_eq!(error["code"], "invalid_argument");

    let (status, _, error) =
        json_error(http.post(&url).header(CONTENT_TYPE, "application/json").send().await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(error["message"].as_str().unwrap().contains("empty"), "{error}");

    // A protocol version or a compression this server does not speak.
    for (name, value) in [("connect-protocol-version", "2"), ("content-encoding", "gzip")] {
        let request = http.post(&url).header(CONTENT_TYPE, "application/json").header(name, value).body("{}");
        let (status, _, error) = json_error(request.send().await.unwrap()).await;
        assert_eq!((status, error["code"].as_str()), (400, Some("invalid_argument")), "{name}: {value}");
    }

    let (status, _, error) = json_error(http.get(&url).send().await.unwrap()).await;
    assert_eq!((status, error["code"].as_str()), (405, Some("unimplemented")));

    let oversized = json!({ "clientId": "x".repeat(200 * 1024) });
    let (status, _, error) = json_error(http.post(&url).json(&oversized).send().await.unwrap()).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (413, Some("invalid_argument")),
        "413 as failure.rs decides; not resource_exhausted, which clients retry"
    );

    // Neither a protobuf body that does not decode nor a long unknown name is echoed or an internal error.
    let garbage = http.post(&url).header(CONTENT_TYPE, "application/proto").body(vec![0xff, 0xff, 0xff]);
    let (status, _, error) = json_error(garbage.send().await.unwrap()).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("invalid_argument")), "{error}");
    let long_name = "n".repeat(100_000);
    let (status, _, error) =
        json_error(http.post(&url).json(&json!({ long_name.clone(): 1 })).send().await.unwrap()).await;
    assert_eq!(status, 400);
    let message = error["message"].as_str().unwrap();
    assert!(message.len() < 400 && message.contains(&"n".repeat(40)), "{} characters", message.len());

    for timeout in ["", "-1", "1.5", "12345678901", "ten"] {
        let request = http.post(&url).header("connect-timeout-ms", timeout).json(&json!({}));
        let (status, _, error) = json_error(request.send().await.unwrap()).await;
        assert_eq!((status, error["code"].as_str()), (400, Some("invalid_argument")), "{timeout:?}: {error}");
    }

    let watch = app.url("/tokend.v1.AuditService/WatchEvents");
    let (status, _, error) = json_error(http.post(&watch).json(&json!({})).send().await.unwrap()).await;
    assert_eq!((status, error["code"].as_str()), (501, Some("unimplemented")));
    assert!(error["message"].as_str().unwrap().contains("streaming"), "{error}");

    let (status, _, error) = json_error(
        http.post(app.url("/tokend.v1.ClientAdmin/NoSuchMethod")).json(&json!({})).send().await.unwrap(),
    )
    .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (404, Some("not_found")),
        "outside the contract: the HTTP side's 404"
    );
}

#[tokio::test]
async fn protobuf_bodies_and_the_callers_deadline_are_honoured() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let request = token_request("svc", &secret, "");
    let post = |timeout: Option<&'static str>| {
        let request = reqwest::Client::new()
            .post(app.url("/tokend.v1.TokenService/IssueToken"))
            .header(CONTENT_TYPE, "application/proto")
            .header("connect-protocol-version", "1")
            .body(request.encode_to_vec());
        match timeout {
            Some(ms) => request.header("connect-timeout-ms", ms),
            None => request,
        }
        .send()
    };

    // A cold client's check takes an argon2 verification: longer than no time at all.
    let late = post(Some("0")).await.unwrap();
    assert_eq!(late.status(), 504);
    assert_eq!(late.json::<Value>().await.unwrap()["code"], "deadline_exceeded");

    let response = post(None).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/proto");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let issued = pb::IssueTokenResponse::decode(response.bytes().await.unwrap()).unwrap();
    assert_eq!(issued.scope, "read");
}
