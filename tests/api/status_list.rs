//! Token Status Lists (draft-ietf-oauth-status-list-20): every token points
//! to a bit in a list tokend publishes, signed and cacheable, over HTTP and
//! gRPC; the bit follows the token's life (revocation, its client disabled,
//! deleted or registered anew, the client a delegated token acts for).

use std::sync::Arc;

use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use serde_json::Value;
use tokend::{
    authority::{
        ClientChanges, ClientDraft, KeyCustody, KeyRing, KeySealer, SigningAlgorithm, StatusListSettings,
    },
    contract::pb,
    store::Store,
};
use tokend_common::status_list::{LIST_CAPACITY, StatusBits};
use tonic::Code;

use crate::support::helpers::*;

/// Seconds after which a server builds a list again from the store.
const REBUILD_AFTER: i64 = 5;
/// Fewest seconds between two builds of one list.
const MIN_REBUILD: i64 = 1;

/// Where a token's status sits: its list's URI and its index.
fn status_of(token: &str) -> (String, u64) {
    let entry = &claims(token)["status"]["status_list"];
    (entry["uri"].as_str().expect("a status list URI").to_owned(), entry["idx"].as_u64().expect("an index"))
}

/// The Status List Token at `uri` over HTTP, checked as a verifier would:
/// its media type, `typ`, signature by a published key, `sub` and claims.
async fn fetched_list(app: &TestApp, uri: &str) -> (Value, StatusBits) {
    fetched_list_from(app, uri, uri).await
}

/// The Status List Token named `uri`, fetched from `url`.
async fn fetched_list_from(app: &TestApp, url: &str, uri: &str) -> (Value, StatusBits) {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/statuslist+jwt");
    let token = response.text().await.unwrap();
    assert_eq!(header(&token)["typ"], "statuslist+jwt");
    let keys: JwkSet = reqwest::get(app.url("/oauth/v2/keys")).await.unwrap().json().await.unwrap();
    let kid = header(&token)["kid"].as_str().unwrap().to_owned();
    let jwk = keys.find(&kid).expect("signed with a published key");
    let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iat", "sub"]);
    let list = jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("a valid signature")
        .claims;
    assert_eq!(list["sub"], uri);
    assert_eq!(list["status_list"]["bits"], 1);
    let bits = StatusBits::decode(list["status_list"]["lst"].as_str().unwrap()).unwrap();
    assert_eq!(bits.capacity(), LIST_CAPACITY);
    (list, bits)
}

/// Whether `token`'s bit is set in its list as `app` publishes it now.
async fn is_invalid(app: &TestApp, token: &str) -> bool {
    let (uri, index) = status_of(token);
    fetched_list(app, &uri).await.1.is_set(index).expect("the index is within the list")
}

fn revoke(token: &str) -> pb::RevokeRequest {
    pb::RevokeRequest { token: token.into(), token_type_hint: String::new() }
}

fn set_active(active: bool) -> ClientChanges {
    ClientChanges { active: Some(active), ..Default::default() }
}

on_both_stores! {
    async fn every_token_points_to_a_valid_bit_of_a_signed_cacheable_list(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let first = app.token("svc", &secret, "").await.access_token;
        let second = app.token("svc", &secret, "").await.access_token;
        let (uri, index) = status_of(&first);
        assert!(uri.starts_with(&app.url("/oauth/v2/status/")), "{uri}");
        assert_eq!(status_of(&second), (uri.clone(), index + 1), "the next index of the same block");

        let response = reqwest::get(&uri).await.unwrap();
        assert_eq!(response.headers()["cache-control"], "public, max-age=60");
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        assert!(response.headers()["etag"].to_str().unwrap().starts_with('"'));
        let (list, bits) = fetched_list(&app, &uri).await;
        assert_eq!(list["ttl"], 60);
        assert_eq!(list["iss"], app.issuer());
        assert!(list["exp"].as_i64().unwrap() > list["iat"].as_i64().unwrap() + 60);
        assert_eq!((bits.is_set(index), bits.is_set(index + 1)), (Some(false), Some(false)));
    }

    async fn revocation_sets_the_bit_of_the_revoked_token_only(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let mut tokens = Vec::new();
        for _ in 0..4 {
            tokens.push(app.token("svc", &secret, "").await.access_token);
        }
        let response = reqwest::Client::new()
            .post(app.url("/oauth/v2/revoke"))
            .basic_auth("svc", Some(&secret))
            .form(&[("token", tokens[0].as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(is_invalid(&app, &tokens[0]).await, "RFC 7009 revocation");
        assert!(!is_invalid(&app, &tokens[1]).await);

        app.tokens.clone().revoke(with_basic(revoke(&tokens[1]), "svc", &secret)).await.unwrap();
        app.authority.clock().advance(MIN_REBUILD);
        assert!(is_invalid(&app, &tokens[1]).await, "gRPC Revoke");

        let admin = app.admin_token().await;
        app.tokens.clone().revoke(with_bearer(revoke(&tokens[2]), &admin)).await.unwrap();
        app.authority.clock().advance(MIN_REBUILD);
        assert!(is_invalid(&app, &tokens[2]).await, "an administrator's revocation");
        assert!(!is_invalid(&app, &tokens[3]).await, "the others stay valid");
    }

    async fn a_clients_tokens_turn_invalid_when_it_is_disabled_deleted_or_registered_anew(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let other = app.create_client("other", "read", "read", &[]).await;
        let before = [app.token("svc", &secret, "").await.access_token, app.token("svc", &secret, "").await.access_token];
        let bystander = app.token("other", &other, "").await.access_token;
        let later = || async { app.authority.clock().advance(REBUILD_AFTER) };

        app.registry.update("svc", set_active(false), &Actor::cli()).await.unwrap();
        later().await;
        for token in &before {
            assert!(is_invalid(&app, token).await, "disabled");
        }
        assert!(!is_invalid(&app, &bystander).await, "another client's token");

        app.registry.update("svc", set_active(true), &Actor::cli()).await.unwrap();
        later().await;
        assert!(is_invalid(&app, &before[0]).await, "enabling it again revives nothing");
        let enabled = app.token("svc", &secret, "").await.access_token;
        assert!(!is_invalid(&app, &enabled).await, "its new tokens are valid");

        app.registry.delete("svc", &Actor::cli()).await.unwrap();
        later().await;
        assert!(is_invalid(&app, &enabled).await, "deleted");
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let anew = app.token("svc", &secret, "").await.access_token;
        later().await;
        assert!(is_invalid(&app, &enabled).await, "registering the id anew revives nothing");
        assert!(!is_invalid(&app, &anew).await, "the new registration's tokens are valid");
        assert!(!is_invalid(&app, &bystander).await);
    }

    async fn a_revocation_here_is_in_the_list_at_once_and_other_changes_wait_for_the_next_build(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let other = app.create_client("other", "read", "read", &[]).await;
        let mut tokens = Vec::new();
        for _ in 0..3 {
            tokens.push(app.token("svc", &secret, "").await.access_token);
        }
        let bystander = app.token("other", &other, "").await.access_token;
        // A change that is no revocation made here needs a build from the
        // store, and a list is built at most once a second: within the
        // second of a build, the same bits (asserted when the checks fell
        // within one second of the clock, as they almost always do).
        let second = app.authority.clock().now();
        assert!(!is_invalid(&app, &tokens[0]).await, "built now");
        app.registry.update("other", set_active(false), &Actor::cli()).await.unwrap();
        let stale = !is_invalid(&app, &bystander).await;
        if app.authority.clock().now() == second {
            assert!(stale, "within the second of the last build, the same bits");
        }
        for token in &tokens[..2] {
            app.tokens.clone().revoke(with_basic(revoke(token), "svc", &secret)).await.unwrap();
            assert!(is_invalid(&app, token).await, "set in the published list at once, without a rebuild");
        }
        assert!(!is_invalid(&app, &tokens[2]).await);
        app.authority.clock().advance(MIN_REBUILD + REBUILD_AFTER);
        assert!(is_invalid(&app, &bystander).await, "a second later it is built again");
        assert!(is_invalid(&app, &tokens[0]).await && !is_invalid(&app, &tokens[2]).await);
    }

    async fn a_list_is_signed_again_when_its_key_stops_signing_and_never_by_a_retired_key(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let (uri, _) = status_of(&token);
        let old_kid = header(&reqwest::get(&uri).await.unwrap().text().await.unwrap())["kid"].clone();
        let store = Store::connect(app.database_url()).await.unwrap();
        let custody = KeyCustody::sealed(Arc::new(KeySealer::load_or_create(app.key_file()).unwrap()));
        let clock = app.authority.clock();
        let new_kid = KeyRing::rotate(&store, clock, SigningAlgorithm::Es256, 0, &custody, &Actor::cli()).await.unwrap();
        app.authority.maintain().await;
        KeyRing::retire(&store, clock, old_kid.as_str().unwrap(), true, &Actor::cli()).await.unwrap();
        app.authority.maintain().await;
        // Unchanged bits, within the time an unchanged list keeps its token: signed anew all the same.
        let (list, _) = fetched_list(&app, &uri).await;
        assert!(list["iat"].is_i64());
        let served = reqwest::get(&uri).await.unwrap().text().await.unwrap();
        assert_eq!(header(&served)["kid"], new_kid.as_str(), "signed by the key that signs now");
    }

    async fn delegated_tokens_turn_invalid_with_the_client_they_act_for(app) {
        let register = |id: &'static str, audiences: &[&str], exchange_audiences: &[&str]| ClientDraft {
            client_id: id.into(),
            allowed_scopes: vec!["read".into()],
            default_scopes: vec!["read".into()],
            audiences: audiences.iter().map(|a| a.to_string()).collect(),
            token_exchange_audiences: exchange_audiences.iter().map(|a| a.to_string()).collect(),
            ..ClientDraft::default()
        };
        let (_, user) = app.registry.create(register("user-svc", &["gateway"], &[]), &Actor::cli()).await.unwrap();
        let (_, gateway) = app.registry.create(register("gateway", &[], &["orders"]), &Actor::cli()).await.unwrap();
        let (user, gateway) = (user.unwrap().expose().to_owned(), gateway.unwrap().expose().to_owned());
        let subject_token = app.token("user-svc", &user, "").await.access_token;
        let exchange = pb::ExchangeTokenRequest {
            client_id: "gateway".into(),
            client_secret: gateway.clone(),
            subject_token,
            subject_token_type: "urn:ietf:params:oauth:token-type:access_token".into(),
            ..Default::default()
        };
        let delegated = app.tokens.clone().exchange_token(exchange).await.unwrap().into_inner().access_token;
        let gateway_own = app.token("gateway", &gateway, "").await.access_token;
        assert_ne!(status_of(&delegated), status_of(&gateway_own));
        assert!(!is_invalid(&app, &delegated).await);

        app.registry.update("user-svc", set_active(false), &Actor::cli()).await.unwrap();
        app.authority.clock().advance(REBUILD_AFTER);
        assert!(is_invalid(&app, &delegated).await, "the client acted for is disabled");
        assert!(!is_invalid(&app, &gateway_own).await, "the actor's own tokens live on");
    }

    async fn the_same_list_over_grpc_and_connect_and_errors_for_what_names_no_list(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let (uri, _) = status_of(&token);
        let over_http = reqwest::get(&uri).await.unwrap().text().await.unwrap();
        let ask = |uri: &str| pb::GetStatusListRequest { uri: uri.into() };
        let over_grpc = app.tokens.clone().get_status_list(ask(&uri)).await.unwrap().into_inner();
        assert_eq!(over_grpc.status_list_token, over_http, "one list, built once, whatever the protocol");

        let connect = reqwest::Client::new()
            .post(app.url("/tokend.v1.TokenService/GetStatusList"))
            .json(&serde_json::json!({ "uri": uri }))
            .send()
            .await
            .unwrap();
        assert_eq!(connect.status(), 200);
        let connect: Value = connect.json().await.unwrap();
        assert_eq!(connect["statusListToken"], over_http.as_str(), "and over Connect");

        let status = app.tokens.clone().get_status_list(ask("")).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "invalid_argument");
        for uri in [app.url("/oauth/v2/status/2"), app.url("/oauth/v2/status/x"), "https://elsewhere.example/oauth/v2/status/1".into()] {
            let status = app.tokens.clone().get_status_list(ask(&uri)).await.unwrap_err();
            assert_error(&status, Code::NotFound, "not_found");
        }
        let long = "9".repeat(4000);
        for list in ["2", "0", "01", "-1", "x", "1.0", "99999999999999999999999", &long] {
            let response = reqwest::get(app.url(&format!("/oauth/v2/status/{list}"))).await.unwrap();
            assert_eq!(response.status(), 404, "{list}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "not_found", "{list}");
        }
    }

    async fn conditional_range_and_historical_requests(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let (uri, _) = status_of(&app.token("svc", &secret, "").await.access_token);
        let http = reqwest::Client::new();
        let first = http.get(&uri).send().await.unwrap();
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let token = first.text().await.unwrap();

        let unchanged = http.get(&uri).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(unchanged.status(), 304);
        assert_eq!(unchanged.headers()["etag"].to_str().unwrap(), etag);
        assert_eq!(unchanged.headers()["cache-control"], "public, max-age=60");
        assert!(unchanged.bytes().await.unwrap().is_empty());
        let other = http.get(&uri).header("if-none-match", "\"something-else\"").send().await.unwrap();
        assert_eq!(other.status(), 200);

        let ranged = http.get(&uri).header("range", "bytes=0-9").send().await.unwrap();
        assert_eq!(ranged.status(), 200, "ranges are not served: the whole list comes");
        assert_eq!(ranged.text().await.unwrap(), token);

        let past = http.get(format!("{uri}?time=1686925000")).send().await.unwrap();
        assert_eq!(past.status(), 501, "no historical resolution");

        // A revocation changes the list, and so its ETag.
        let revoked = app.token("svc", &secret, "").await.access_token;
        app.tokens.clone().revoke(with_basic(revoke(&revoked), "svc", &secret)).await.unwrap();
        app.authority.clock().advance(MIN_REBUILD);
        let changed = http.get(&uri).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(changed.status(), 200);
        assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    }

    async fn discovery_names_the_aggregation_which_names_every_list(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let (uri, _) = status_of(&app.token("svc", &secret, "").await.access_token);
        let metadata: Value = reqwest::get(app.url("/.well-known/oauth-authorization-server")).await.unwrap().json().await.unwrap();
        let aggregation = metadata["status_list_aggregation_endpoint"].as_str().unwrap();
        assert_eq!(aggregation, app.url("/oauth/v2/status"));
        let lists: Value = reqwest::get(aggregation).await.unwrap().json().await.unwrap();
        assert_eq!(lists["status_lists"], serde_json::json!([uri]));
        let (list, _) = fetched_list(&app, &uri).await;
        assert_eq!(list["status_list"]["aggregation_uri"], aggregation);
    }

    async fn indices_are_never_handed_out_twice_across_instances(app) {
        let other = app.second_instance(tokend::authority::SigningAlgorithm::Es256).await;
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let mut seen = std::collections::HashSet::new();
        for round in 0..40 {
            let instance = if round % 2 == 0 { &app } else { &other };
            let token = instance.token("svc", &secret, "").await.access_token;
            assert!(seen.insert(status_of(&token)), "a fresh index every time");
        }
    }

    async fn a_list_whose_tokens_have_all_expired_is_removed(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let (first, _) = status_of(&app.token("svc", &secret, "").await.access_token);
        app.authority.clock().advance(2 * 3600);
        let (second, _) = status_of(&app.token("svc", &secret, "").await.access_token);
        assert_ne!(first, second, "a list takes new tokens for an hour");
        // Half a minute short of the day: a slow run's own seconds do not cross it.
        app.authority.clock().advance(86_400 - 3600 - 30);
        app.authority.maintain().await;
        assert_eq!(reqwest::get(&first).await.unwrap().status(), 200, "a token in it may live a day");
        app.authority.clock().advance(30);
        app.authority.maintain().await;
        assert_eq!(reqwest::get(&first).await.unwrap().status(), 404, "every token in it has expired");
        assert_eq!(reqwest::get(&second).await.unwrap().status(), 200);
    }
}

/// Two instances on one PostgreSQL database publish the same bits, and a
/// revocation made on one is in the list the other serves.
#[tokio::test]
async fn a_revocation_on_one_instance_is_in_the_list_another_publishes() {
    let Some(first) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let second = first.second_instance(tokend::authority::SigningAlgorithm::Es256).await;
    let secret = first.create_client("svc", "read", "read", &[]).await;
    let token = first.token("svc", &secret, "").await.access_token;
    let (uri, index) = status_of(&token);
    // The second instance serves the lists of the issuer both share.
    let on_second = second.url(uri.strip_prefix(first.issuer()).unwrap());
    assert!(!fetched_list_from(&second, &on_second, &uri).await.1.is_set(index).unwrap());

    first.tokens.clone().revoke(with_basic(revoke(&token), "svc", &secret)).await.unwrap();
    second.authority.clock().advance(REBUILD_AFTER);
    let (_, on_second) = fetched_list_from(&second, &on_second, &uri).await;
    let (_, on_first) = fetched_list(&first, &uri).await;
    assert!(on_second.is_set(index).unwrap(), "the other instance publishes the bit");
    assert_eq!(on_second, on_first, "both publish the same bits");
}

/// `--status-list off`: tokens carry no status and nothing is published.
#[tokio::test]
async fn with_status_lists_off_tokens_carry_no_status_and_no_list_is_published() {
    let launch =
        Launch { status_lists: StatusListSettings { enabled: false, ttl_seconds: 60 }, ..Launch::default() };
    let app = TestApp::spawn_with(Backend::Sqlite, launch).await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let token = app.token("svc", &secret, "").await.access_token;
    assert!(claims(&token).get("status").is_none());
    for path in ["/oauth/v2/status", "/oauth/v2/status/1"] {
        assert_eq!(reqwest::get(app.url(path)).await.unwrap().status(), 404, "{path}");
    }
    let metadata: Value =
        reqwest::get(app.url("/.well-known/oauth-authorization-server")).await.unwrap().json().await.unwrap();
    assert!(metadata.get("status_list_aggregation_endpoint").is_none());
}
