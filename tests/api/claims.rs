//! Per-client claims: fixed at registration (gRPC and CLI), carried by every
//! token, shown by introspection over both protocols, changed by UpdateClient,
//! and refused when they would take a name tokend owns or grow past 2 KiB.

use prost_types::{Value, value::Kind};
use serde_json::json;
use tokend::contract::pb;
use tonic::Code;

use crate::support::helpers::*;

fn claims(value: serde_json::Value) -> tokend::grpc::EncodedStruct {
    wire_struct(value)
}

fn string(value: &Value) -> &str {
    match &value.kind {
        Some(Kind::StringValue(text)) => text,
        other => panic!("not a string: {other:?}"),
    }
}

on_both_stores! {
    async fn fixed_claims_ride_in_every_token_and_introspection_shows_them(app) {
        let bearer = app.admin_token().await;
        let mut admin = app.admin.clone();
        let fixed = json!({"tenant": "acme", "tier": 3, "roles": ["reader"], "geo": {"eu": true}});
        let created = admin.create_client(with_bearer(pb::CreateClientRequest {
            client_id: "svc".into(), allowed_scopes: vec!["read".into()], default_scopes: vec!["read".into()],
            claims: Some(claims(fixed.clone())), ..Default::default()
        }, &bearer)).await.unwrap().into_inner();
        let shown = read_struct(&created.client.unwrap().claims.unwrap());
        assert_eq!(string(&shown.fields["tenant"]), "acme");

        let token = app.token("svc", &created.client_secret, "").await.access_token;
        let payload = crate::support::helpers::claims(&token);
        for (name, value) in fixed.as_object().unwrap() {
            assert_eq!(&payload[name], value, "{name} in the token, with its JSON type");
        }
        assert_eq!(payload["client_id"], "svc", "tokend's own claims are untouched");

        let request = pb::IntrospectRequest { token: token.clone(), ..Default::default() };
        let answer = app.tokens.clone().introspect(with_basic(request, "svc", &created.client_secret)).await.unwrap().into_inner();
        assert!(answer.active);
        assert_eq!(string(&read_struct(&answer.claims.unwrap()).fields["tenant"]), "acme");
        let http: serde_json::Value = reqwest::Client::new().post(app.url("/oauth/v2/introspect"))
            .basic_auth("svc", Some(&created.client_secret)).form(&[("token", token.as_str())])
            .send().await.unwrap().json().await.unwrap();
        assert_eq!((http["active"].clone(), http["tenant"].clone(), http["tier"].clone()), (json!(true), json!("acme"), json!(3)));
        assert_eq!(http["geo"], json!({"eu": true}));

        let update = pb::UpdateClientRequest {
            client: Some(pb::Client { client_id: "svc".into(), claims: Some(claims(json!({"tenant": "globex"}))), ..Default::default() }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["claims".into()] }),
        };
        admin.update_client(with_bearer(update, &bearer)).await.unwrap();
        let payload = crate::support::helpers::claims(&app.token("svc", &created.client_secret, "").await.access_token);
        assert_eq!((payload["tenant"].clone(), payload.get("tier")), (json!("globex"), None));
        let got = admin.get_client(with_bearer(pb::GetClientRequest { client_id: "svc".into() }, &bearer)).await.unwrap();
        assert_eq!(read_struct(&got.into_inner().claims.unwrap()).fields.len(), 1);

        let cleared = pb::UpdateClientRequest {
            client: Some(pb::Client { client_id: "svc".into(), ..Default::default() }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["claims".into()] }),
        };
        admin.update_client(with_bearer(cleared, &bearer)).await.unwrap();
        let payload = crate::support::helpers::claims(&app.token("svc", &created.client_secret, "").await.access_token);
        assert_eq!(payload.get("tenant"), None, "claims can be removed");
    }

    async fn names_tokend_owns_and_oversized_sets_are_refused_naming_the_claim(app) {
        let bearer = app.admin_token().await;
        let mut admin = app.admin.clone();
        for (fixed, named) in [
            (json!({"iss": "https://evil"}), "\"iss\""),
            (json!({"act": {"sub": "root"}}), "\"act\""),
            (json!({"federated": 1}), "\"federated\""),
            (json!({"tokend_role": "admin"}), "\"tokend_role\""),
            (json!({"active": false}), "\"active\""),
            (json!({"blob": "x".repeat(2100)}), "2048 bytes"),
        ] {
            let request = pb::CreateClientRequest { client_id: "svc".into(), claims: Some(claims(fixed)), ..Default::default() };
            let status = admin.create_client(with_bearer(request, &bearer)).await.unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument);
            assert!(status.message().contains(named), "{named}: {}", status.message());
        }
        let request = pb::GetClientRequest { client_id: "svc".into() };
        assert_eq!(admin.get_client(with_bearer(request, &bearer)).await.unwrap_err().code(), Code::NotFound, "nothing was made");
    }

    async fn the_command_line_sets_claims_from_flags_and_a_file(app) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("claims.json");
        std::fs::write(&file, r#"{"env": "prod", "tier": 1}"#).unwrap();
        let created = tokend_command(&app)
            .args(["client", "create", "--id", "svc", "--scopes", "read", "--json", "--claim", "tenant=acme", "--claim", "tier=3", "--claim", "roles=[\"a\",\"b\"]", "--claims-file"])
            .arg(&file)
            .output().unwrap();
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
        let secret = serde_json::from_slice::<serde_json::Value>(&created.stdout).unwrap()["client_secret"].as_str().unwrap().to_owned();
        let payload = crate::support::helpers::claims(&app.token("svc", &secret, "").await.access_token);
        assert_eq!(payload["tenant"], "acme");
        assert_eq!(payload["tier"], 3, "a flag beats the file, and a number stays a number");
        assert_eq!(payload["env"], "prod");
        assert_eq!(payload["roles"], json!(["a", "b"]));

        let cleared = tokend_command(&app).args(["client", "set-claims", "--id", "svc"]).output().unwrap();
        assert!(cleared.status.success());
        app.authority.maintain().await;
        let payload = crate::support::helpers::claims(&app.token("svc", &secret, "").await.access_token);
        assert_eq!(payload.get("tenant"), None);
        let refused = tokend_command(&app).args(["client", "set-claims", "--id", "svc", "--claim", "sub=someone"]).output().unwrap();
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("\"sub\""));
    }
}
