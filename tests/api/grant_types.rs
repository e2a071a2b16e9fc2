//! A client's `grant_types` (RFC 7591): `client_credentials` unless it names
//! others; a client registered without it gets no token that way, in any
//! protocol, until an administrator adds it through the update mask.

use tokend::{authority::ClientDraft, contract::pb};
use tonic::Code;

use crate::support::helpers::*;

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

on_both_stores! {
    async fn the_client_credentials_grant_needs_client_credentials_in_grant_types(app) {
        let default = app.create_client("plain", "read", "read", &[]).await;
        app.token("plain", &default, "").await;
        let draft = ClientDraft {
            client_id: "signer".into(),
            allowed_scopes: vec!["read".into()],
            default_scopes: vec!["read".into()],
            grant_types: vec![JWT_BEARER.into()],
            ..ClientDraft::default()
        };
        let secret = app.registry.create(draft, &Actor::cli()).await.unwrap().1.unwrap().expose().to_owned();
        let refused = app.tokens.clone().issue_token(token_request("signer", &secret, "")).await.unwrap_err();
        assert_error(&refused, Code::PermissionDenied, "unauthorized_client");
        let (status, answer) = app.post_token_form("signer", &secret, &[("grant_type", "client_credentials")]).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("unauthorized_client")), "{answer}");

        let admin = app.admin_token().await;
        let shown = app.admin.clone().get_client(with_bearer(pb::GetClientRequest { client_id: "signer".into() }, &admin))
            .await.unwrap().into_inner();
        assert_eq!(shown.grant_types, [JWT_BEARER]);
        let update = |grants: &[&str]| pb::UpdateClientRequest {
            client: Some(pb::Client {
                client_id: "signer".into(),
                grant_types: grants.iter().map(|grant| grant.to_string()).collect(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["grant_types".into()] }),
        };
        let refused = app.admin.clone().update_client(with_bearer(update(&["password"]), &admin)).await.unwrap_err();
        assert_error(&refused, Code::InvalidArgument, "invalid_argument");
        assert!(refused.message().contains("\"password\""), "{}", refused.message());
        let updated = app.admin.clone().update_client(with_bearer(update(&["client_credentials", JWT_BEARER]), &admin))
            .await.unwrap().into_inner();
        assert_eq!(updated.grant_types, ["client_credentials", JWT_BEARER]);
        app.token("signer", &secret, "").await;
    }
}
