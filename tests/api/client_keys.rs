//! Keys tokend makes for a client (`client add-key`, `AddClientKey`): the
//! private half handed out once, as ZITADEL's key file, PEM or JWK, signs
//! JWT bearer grant assertions that get the client's token; a removed key's
//! assertions are refused.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokend::contract::pb;
use tonic::Code;

use crate::{support::helpers::*, support::signers::now};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// What ZITADEL's SDKs sign with a key file: `iss` = `sub` = its userId,
/// `aud` = the issuer, its keyId as `kid`, RS256 unless the key is EC.
fn zitadel_assertion(app: &TestApp, file: &Value) -> String {
    let user = file["userId"].as_str().unwrap();
    let key = file["key"].as_str().unwrap();
    let (algorithm, encoding) = match key.contains("RSA PRIVATE KEY") {
        true => (Algorithm::RS256, EncodingKey::from_rsa_pem(key.as_bytes()).unwrap()),
        false => panic!("the test signs with RSA key files only"),
    };
    let mut header = Header::new(algorithm);
    header.kid = file["keyId"].as_str().map(str::to_owned);
    let now = now();
    let claims = json!({ "iss": user, "sub": user, "aud": app.issuer(), "iat": now, "exp": now + 3600 });
    jsonwebtoken::encode(&header, &claims, &encoding).unwrap()
}

/// The grant at the token endpoint: status and answer.
async fn grant(app: &TestApp, assertion: &str) -> (u16, Value) {
    let params = [("grant_type", GRANT), ("assertion", assertion)];
    let response =
        reqwest::Client::new().post(app.url("/oauth/v2/token")).form(&params).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn add_key(app: &TestApp, bearer: &str, request: pb::AddClientKeyRequest) -> pb::AddClientKeyResponse {
    app.admin.clone().add_client_key(with_bearer(request, bearer)).await.expect("a key is added").into_inner()
}

on_both_stores! {
    async fn a_key_file_from_add_client_key_gets_the_clients_token_until_the_key_is_removed(app) {
        let bearer = app.admin_token().await;
        let secret = app.create_client("billing", "invoices.read", "invoices.read", &[]).await;
        let added = add_key(&app, &bearer, pb::AddClientKeyRequest { client_id: "billing".into(), ..Default::default() }).await;
        let client = added.client.unwrap();
        assert!(client.grant_types.contains(&GRANT.to_owned()), "{:?}", client.grant_types);
        assert!(client.grant_types.contains(&"client_credentials".to_owned()), "the grants it had stay");
        let jwks: Value = serde_json::from_str(&client.jwks).unwrap();
        assert_eq!(jwks["keys"][0]["kid"], added.key_id.as_str());
        assert!(jwks["keys"][0].get("d").is_none(), "only the public half is registered");
        assert!(!client.jwks.contains(&added.private_key), "{}", client.jwks);

        let file: Value = serde_json::from_str(&added.private_key).unwrap();
        assert_eq!((file["type"].as_str(), file["userId"].as_str()), (Some("serviceaccount"), Some("billing")));
        assert_eq!(file["keyId"].as_str(), Some(added.key_id.as_str()));
        let (status, answer) = grant(&app, &zitadel_assertion(&app, &file)).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(claims(answer["access_token"].as_str().unwrap())["client_id"], "billing");
        assert_eq!(app.token("billing", &secret, "").await.scope, "invoices.read", "its secret still works");

        let fetched = app.admin.clone().get_client(with_bearer(pb::GetClientRequest { client_id: "billing".into() }, &bearer))
            .await.unwrap().into_inner();
        assert_eq!(fetched.jwks, client.jwks, "nothing of the private key is kept to show again");

        let remove = pb::RemoveClientKeyRequest { client_id: "billing".into(), key_id: added.key_id.clone() };
        let removed = app.admin.clone().remove_client_key(with_bearer(remove.clone(), &bearer)).await.unwrap().into_inner();
        assert_eq!(removed.jwks, "", "its only key is gone");
        let (status, answer) = grant(&app, &zitadel_assertion(&app, &file)).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")), "{answer}");
        let again = app.admin.clone().remove_client_key(with_bearer(remove, &bearer)).await.unwrap_err();
        assert_eq!(again.code(), Code::NotFound, "{again:?}");
    }

    async fn keys_come_in_each_format_and_stay_beside_each_other(app) {
        let bearer = app.admin_token().await;
        app.create_client("billing", "invoices.read", "", &[]).await;
        let request = |algorithm: &str, format: &str| pb::AddClientKeyRequest {
            client_id: "billing".into(), algorithm: algorithm.into(), format: format.into(),
        };
        let pem = add_key(&app, &bearer, request("ES256", "pem")).await;
        assert!(pem.private_key.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
        let jwk = add_key(&app, &bearer, request("RS256", "jwk")).await;
        let private: Value = serde_json::from_str(&jwk.private_key).unwrap();
        assert_eq!((private["kid"].as_str(), private["kty"].as_str()), (Some(jwk.key_id.as_str()), Some("RSA")));
        assert!(private["d"].is_string() && private["qi"].is_string(), "a private JWK");
        let jwks: Value = serde_json::from_str(&jwk.client.unwrap().jwks).unwrap();
        let kids: Vec<_> = jwks["keys"].as_array().unwrap().iter().map(|key| key["kid"].as_str().unwrap()).collect();
        assert_eq!(kids, [pem.key_id.as_str(), jwk.key_id.as_str()]);

        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(pem.key_id.clone());
        let now = now();
        let claims = json!({ "iss": "billing", "sub": "billing", "aud": app.issuer(), "iat": now, "exp": now + 60, "jti": "once" });
        let assertion = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_pem(pem.private_key.as_bytes()).unwrap()).unwrap();
        let (status, answer) = grant(&app, &assertion).await;
        assert_eq!(status, 200, "{answer}");

        let refused = |algorithm: &str, format: &str| {
            let mut admin = app.admin.clone();
            let request = with_bearer(request(algorithm, format), &bearer);
            async move { admin.add_client_key(request).await.unwrap_err() }
        };
        let status = refused("HS256", "").await;
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("algorithm"), "{status:?}");
        let status = refused("", "der").await;
        assert!(status.message().contains("format"), "{status:?}");
        let missing = pb::AddClientKeyRequest { client_id: "nobody".into(), ..Default::default() };
        let status = app.admin.clone().add_client_key(with_bearer(missing, &bearer)).await.unwrap_err();
        assert_eq!(status.code(), Code::NotFound);
    }

    async fn a_client_that_publishes_its_own_keys_gets_none_made(app) {
        let bearer = app.admin_token().await;
        let create = pb::CreateClientRequest {
            client_id: "publisher".into(),
            token_endpoint_auth_methods: vec!["private_key_jwt".into()],
            jwks_uri: "https://keys.example/publisher.json".into(),
            ..Default::default()
        };
        app.admin.clone().create_client(with_bearer(create, &bearer)).await.unwrap();
        let request = pb::AddClientKeyRequest { client_id: "publisher".into(), ..Default::default() };
        let status = app.admin.clone().add_client_key(with_bearer(request, &bearer)).await.unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert!(status.message().contains("jwks_uri"), "{status:?}");
    }

    async fn adding_and_removing_keys_is_in_the_audit_trail_and_needs_an_admin(app) {
        let bearer = app.admin_token().await;
        let secret = app.create_client("billing", "invoices.read", "", &[]).await;
        let added = add_key(&app, &bearer, pb::AddClientKeyRequest { client_id: "billing".into(), ..Default::default() }).await;
        let remove = pb::RemoveClientKeyRequest { client_id: "billing".into(), key_id: added.key_id.clone() };
        app.admin.clone().remove_client_key(with_bearer(remove, &bearer)).await.unwrap();

        let request = pb::ListEventsRequest { client_id: "billing".into(), ..Default::default() };
        let events = pb::audit_service_client::AuditServiceClient::new(app.channel.clone())
            .list_events(with_bearer(request, &bearer)).await.unwrap().into_inner().events;
        let key_events: Vec<_> = events.iter().filter(|event| event.r#type.starts_with("client_key_")).collect();
        assert_eq!(key_events.len(), 2, "{events:?}");
        for event in key_events {
            let details = read_struct(event.details.as_ref().unwrap());
            assert_eq!(details.fields["kid"].kind, Some(prost_types::value::Kind::StringValue(added.key_id.clone())));
            assert!(!format!("{event:?}").contains("PRIVATE"), "{event:?}");
        }

        let not_admin = app.token("billing", &secret, "").await.access_token;
        let request = pb::AddClientKeyRequest { client_id: "billing".into(), ..Default::default() };
        let status = app.admin.clone().add_client_key(with_bearer(request, &not_admin)).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    }
}
