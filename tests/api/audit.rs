//! The audit trail: every admin change recorded with its actor, origin and
//! details (and never a secret), stable pages and filters, the live stream
//! across instances, failed authentications aggregated per minute,
//! retention, the CLI, and the issuance log.

use std::{io::BufRead, time::Duration};

use prost_types::value::Kind;
use tokend::{
    authority::{ClientDraft, SigningAlgorithm},
    contract::pb,
};
use tonic::{Code, Streaming};

use crate::support::helpers::*;

type Audit = pb::audit_service_client::AuditServiceClient<tonic::transport::Channel>;

fn audit(app: &TestApp) -> Audit {
    Audit::new(app.channel.clone())
}

async fn list(app: &TestApp, bearer: &str, request: pb::ListEventsRequest) -> pb::ListEventsResponse {
    audit(app).list_events(with_bearer(request, bearer)).await.expect("events are listed").into_inner()
}

fn types(events: &[pb::Event]) -> Vec<&str> {
    events.iter().map(|event| event.r#type.as_str()).collect()
}

/// A member of an event's details.
fn detail(event: &pb::Event, name: &str) -> Kind {
    let details = read_struct(event.details.as_ref().expect("details"));
    details
        .fields
        .get(name)
        .and_then(|value| value.kind.clone())
        .unwrap_or_else(|| panic!("no {name} in {event:?}"))
}

fn strings(kind: &Kind) -> Vec<String> {
    let Kind::ListValue(list) = kind else { panic!("not a list: {kind:?}") };
    list.values
        .iter()
        .map(|value| match &value.kind {
            Some(Kind::StringValue(text)) => text.clone(),
            other => panic!("not a string: {other:?}"),
        })
        .collect()
}

/// The next event of a stream, within the five seconds the contract allows.
async fn next_event(stream: &mut Streaming<pb::Event>) -> pb::Event {
    tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .expect("an event within 5 s")
        .expect("the stream is healthy")
        .expect("the stream is open")
}

on_both_stores! {
    async fn every_admin_change_is_an_event_naming_who_what_and_from_where_never_a_secret(app) {
        let bearer = app.admin_token().await;
        let mut admin = app.admin.clone();
        let created = admin.create_client(with_bearer(pb::CreateClientRequest { client_id: "svc".into(), allowed_scopes: vec!["read".into()], ..Default::default() }, &bearer)).await.unwrap().into_inner();
        let first_secret = created.client_secret;
        let update = |client: pb::Client, paths: &[&str]| pb::UpdateClientRequest {
            client: Some(client),
            update_mask: Some(prost_types::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() }),
        };
        let renamed = pb::Client {
            client_id: "svc".into(), display_name: "Orders".into(), allowed_scopes: vec!["read".into(), "write".into()],
            ..Default::default()
        };
        admin.update_client(with_bearer(update(renamed, &["display_name", "allowed_scopes"]), &bearer)).await.unwrap();
        let off = pb::Client { client_id: "svc".into(), active: false, ..Default::default() };
        admin.update_client(with_bearer(update(off, &["active"]), &bearer)).await.unwrap();
        let on = pb::Client { client_id: "svc".into(), active: true, ..Default::default() };
        admin.update_client(with_bearer(update(on, &["active"]), &bearer)).await.unwrap();
        let rotated = admin.rotate_secret(with_bearer(
            pb::RotateSecretRequest { client_id: "svc".into(), grace_seconds: 60 }, &bearer,
        )).await.unwrap().into_inner();
        let token = app.token("svc", &rotated.client_secret, "").await.access_token;
        // A client revoking its own token is no admin change; an admin revoking it is.
        let mine = app.token("svc", &rotated.client_secret, "").await.access_token;
        app.tokens.clone().revoke(with_basic(pb::RevokeRequest { token: mine, ..Default::default() }, "svc", &rotated.client_secret)).await.unwrap();
        app.tokens.clone().revoke(with_bearer(pb::RevokeRequest { token: token.clone(), ..Default::default() }, &bearer)).await.unwrap();
        admin.delete_client(with_bearer(pb::DeleteClientRequest { client_id: "svc".into() }, &bearer)).await.unwrap();

        let page = list(&app, &bearer, pb::ListEventsRequest { client_id: "svc".into(), ..Default::default() }).await;
        assert_eq!(
            types(&page.events),
            ["client_deleted", "token_revoked", "secret_rotated", "client_enabled", "client_disabled", "client_updated", "client_created"],
            "newest first, one event a change"
        );
        for event in &page.events {
            assert_eq!((event.actor.as_str(), event.origin.as_str(), event.target.as_str()), ("root-admin", "127.0.0.1", "svc"));
            assert!(!event.id.is_empty() && event.time.is_some());
        }
        let by_type = |name: &str| page.events.iter().find(|event| event.r#type == name).unwrap();
        assert_eq!(strings(&detail(by_type("client_updated"), "fields")), ["display_name", "allowed_scopes"]);
        assert_eq!(detail(by_type("secret_rotated"), "grace_seconds"), Kind::NumberValue(60.0));
        let jti = claims(&token)["jti"].as_str().unwrap().to_owned();
        assert_eq!(detail(by_type("token_revoked"), "jti"), Kind::StringValue(jti));

        let everything = format!("{:?}", list(&app, &bearer, pb::ListEventsRequest::default()).await);
        for secret in [&first_secret, &rotated.client_secret, &token, &bearer] {
            assert!(!everything.contains(secret.as_str()), "a secret or token in the audit trail");
        }
        assert!(!everything.contains("$argon2"), "a secret hash in the audit trail");
    }

    async fn the_command_line_is_an_actor_and_lists_the_trail(app) {
        app.create_client("svc", "read", "", &[]).await;
        let rotated = tokend_command(&app).args(["keys", "rotate", "--json"]).output().unwrap();
        assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
        let kid = serde_json::from_slice::<serde_json::Value>(&rotated.stdout).unwrap()["kid"].as_str().unwrap().to_owned();
        let disabled = tokend_command(&app).args(["client", "disable", "--id", "svc"]).output().unwrap();
        assert!(disabled.status.success());
        let issuer = "https://token.actions.githubusercontent.com";
        for args in [
            &["keys", "retire", "--kid", &kid][..],
            &["issuer", "add", "--issuer", issuer, "--discovery", "--audience", "tokend"],
            &["issuer", "remove", "--issuer", issuer],
        ] {
            let done = tokend_command(&app).args(args).output().unwrap();
            assert!(done.status.success(), "{args:?}: {}", String::from_utf8_lossy(&done.stderr));
        }

        let listed = tokend_command(&app).args(["events", "list", "--json"]).output().unwrap();
        assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
        let events: Vec<serde_json::Value> = listed.stdout.lines()
            .map(|line| serde_json::from_str(&line.unwrap()).unwrap())
            .collect();
        let seen: Vec<(&str, &str)> = events.iter()
            .map(|event| (event["type"].as_str().unwrap(), event["target"].as_str().unwrap()))
            .collect();
        assert_eq!(seen, [
            ("trusted_issuer_removed", issuer),
            ("trusted_issuer_added", issuer),
            ("key_retired", kid.as_str()),
            ("client_disabled", "svc"),
            ("key_rotated", kid.as_str()),
            ("client_created", "svc"),
        ]);
        for event in &events {
            assert!(event["actor"].as_str().unwrap().starts_with("cli:"), "{event}");
            assert_eq!(event["origin"], "local");
            assert!(event["time"].as_str().unwrap().ends_with('Z'), "{event}");
        }
        assert_eq!(events[4]["details"]["algorithm"], "ES256");
        assert_eq!(events[2]["details"]["forced"], false, "a pending key needs no force");
        assert_eq!(events[1]["details"]["audiences"], serde_json::json!(["tokend"]));

        let only_svc = tokend_command(&app).args(["events", "list", "--client", "svc"]).output().unwrap();
        let table = String::from_utf8(only_svc.stdout).unwrap();
        assert_eq!(table.lines().count(), 3, "a header and svc's two events: {table}");
        assert!(table.lines().nth(1).unwrap().contains("client_disabled"));
        let bad = tokend_command(&app).args(["events", "list", "--type", "client_exploded"]).output().unwrap();
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown event type \"client_exploded\""));
    }

    async fn pages_are_stable_newest_first_and_filters_apply(app) {
        let bearer = app.admin_token().await;
        for i in 0..7 {
            app.create_client(&format!("c{i}"), "read", "", &[]).await;
        }
        let created = |token: &str| pb::ListEventsRequest {
            page_size: 3, page_token: token.into(), types: vec!["client_created".into()], ..Default::default()
        };
        let first = list(&app, &bearer, created("")).await;
        // A change between pages lands before the first page, not in the next ones.
        app.create_client("late", "read", "", &[]).await;
        let second = list(&app, &bearer, created(&first.next_page_token)).await;
        let third = list(&app, &bearer, created(&second.next_page_token)).await;
        assert!(third.next_page_token.is_empty(), "the last page");
        let targets: Vec<&str> = [&first, &second, &third].iter()
            .flat_map(|page| page.events.iter().map(|event| event.target.as_str()))
            .collect();
        assert_eq!(targets, ["c6", "c5", "c4", "c3", "c2", "c1", "c0", "root-admin"]);

        let none = list(&app, &bearer, pb::ListEventsRequest { types: vec!["client_deleted".into()], ..Default::default() }).await;
        assert!(none.events.is_empty());
        let future = prost_types::Timestamp { seconds: app.authority.clock().now() + 60, nanos: 0 };
        let later = list(&app, &bearer, pb::ListEventsRequest { since: Some(future), ..Default::default() }).await;
        assert!(later.events.is_empty(), "since excludes what came before");

        let unknown = pb::ListEventsRequest { types: vec!["client_exploded".into()], ..Default::default() };
        let status = audit(&app).list_events(with_bearer(unknown, &bearer)).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "invalid_argument");
        let forged = pb::ListEventsRequest { page_token: "bm90LWEtdG9rZW4".into(), ..Default::default() };
        let status = audit(&app).list_events(with_bearer(forged, &bearer)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);

        let secret = app.create_client("plain", "read", "read", &[]).await;
        let plain = app.token("plain", &secret, "").await.access_token;
        let status = audit(&app).list_events(with_bearer(pb::ListEventsRequest::default(), &plain)).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
        let status = audit(&app).watch_events(pb::WatchEventsRequest::default()).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
    }

    async fn a_live_stream_ends_soon_after_its_token_stops_being_active(app) {
        let watch = || pb::WatchEventsRequest::default();
        // Events already committed may come first; then the stream ends.
        let ended = |mut stream: Streaming<pb::Event>, why: &'static str| async move {
            let end = async { loop { if let Err(status) = stream.message().await { return status; } } };
            let status = tokio::time::timeout(Duration::from_secs(5), end)
                .await
                .unwrap_or_else(|_| panic!("{why}: the stream ends within 5 s"));
            assert_error(&status, Code::Unauthenticated, "invalid_token");
        };

        let revoked = app.admin_token().await;
        let stream = audit(&app).watch_events(with_bearer(watch(), &revoked)).await.unwrap().into_inner();
        let revoke = pb::RevokeRequest { token: revoked.clone(), ..Default::default() };
        app.tokens.clone().revoke(with_bearer(revoke, &revoked)).await.unwrap();
        ended(stream, "revoked").await;

        let secret = app.create_client("watcher", "tokend.admin", "tokend.admin", &[]).await;
        let token = app.token("watcher", &secret, "").await.access_token;
        let stream = audit(&app).watch_events(with_bearer(watch(), &token)).await.unwrap().into_inner();
        let disable = tokend::authority::ClientChanges { active: Some(false), ..Default::default() };
        app.registry.update("watcher", disable, &Actor::cli()).await.unwrap();
        ended(stream, "its client disabled").await;

        let secret = app.create_client("expiring", "tokend.admin", "tokend.admin", &[]).await;
        let token = app.token("expiring", &secret, "").await.access_token;
        let stream = audit(&app).watch_events(with_bearer(watch(), &token)).await.unwrap().into_inner();
        app.authority.clock().advance(3600);
        ended(stream, "expired").await;
    }

    async fn a_watcher_sees_changes_made_through_another_instance(app) {
        let bearer = app.admin_token().await;
        let other = app.second_instance(SigningAlgorithm::Es256).await;
        let watch = pb::WatchEventsRequest { client_id: "svc".into(), types: vec![] };
        let mut stream = audit(&app).watch_events(with_bearer(watch, &bearer)).await.unwrap().into_inner();

        let mut admin = other.admin.clone();
        for id in ["unrelated", "svc"] {
            admin.create_client(with_bearer(pb::CreateClientRequest { client_id: id.into(), ..Default::default() }, &bearer)).await.unwrap();
        }
        let event = next_event(&mut stream).await;
        assert_eq!((event.r#type.as_str(), event.target.as_str()), ("client_created", "svc"), "filtered to svc");
        admin.rotate_secret(with_bearer(pb::RotateSecretRequest { client_id: "svc".into(), grace_seconds: 0 }, &bearer))
            .await.unwrap();
        assert_eq!(next_event(&mut stream).await.r#type, "secret_rotated");
    }

    async fn failed_authentications_are_one_event_per_client_per_minute(app) {
        let bearer = app.admin_token().await;
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let other = app.create_client("other", "read", "read", &[]).await;
        for _ in 0..4 {
            let status = app.tokens.clone().issue_token(token_request("svc", &other, "")).await.unwrap_err();
            assert_eq!(status.code(), Code::Unauthenticated);
        }
        app.token("svc", &secret, "").await;
        app.authority.maintain().await;
        let failed = || pb::ListEventsRequest { types: vec!["client_authentication_failed".into()], ..Default::default() };
        assert!(list(&app, &bearer, failed()).await.events.is_empty(), "written once the minute is over");

        app.authority.clock().advance(60);
        app.authority.maintain().await;
        let events = list(&app, &bearer, failed()).await.events;
        assert_eq!(events.len(), 1, "{events:?}");
        let event = &events[0];
        assert_eq!((event.target.as_str(), event.actor.as_str()), ("svc", "anonymous"));
        assert_eq!(detail(event, "count"), Kind::NumberValue(4.0));
        let Kind::StructValue(methods) = detail(event, "methods") else { panic!("methods") };
        assert_eq!(methods.fields["client_secret"].kind, Some(Kind::NumberValue(4.0)));
    }

    async fn failures_for_ids_no_client_has_are_one_event_a_minute(app) {
        let bearer = app.admin_token().await;
        let secret = app.create_client("svc", "read", "read", &[]).await;
        for i in 0..25 {
            let guess = token_request(&format!("ghost-{i}"), &guess_at(&secret), "");
            assert_eq!(app.tokens.clone().issue_token(guess).await.unwrap_err().code(), Code::Unauthenticated);
        }
        let status = app.tokens.clone().issue_token(token_request("svc", &guess_at(&secret), "")).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
        app.authority.clock().advance(60);
        app.authority.maintain().await;

        let failed = pb::ListEventsRequest { types: vec!["client_authentication_failed".into()], ..Default::default() };
        let events = list(&app, &bearer, failed).await.events;
        let mut targets: Vec<&str> = events.iter().map(|event| event.target.as_str()).collect();
        targets.sort();
        assert_eq!(targets, ["*", "svc"], "one event for all the made-up ids, one for the real client");
        let folded = events.iter().find(|event| event.target == "*").unwrap();
        assert_eq!(detail(folded, "count"), Kind::NumberValue(25.0));
        assert_eq!(detail(folded, "distinct_client_ids"), Kind::NumberValue(25.0));
        let Kind::ListValue(addresses) = detail(folded, "addresses") else { panic!("addresses") };
        assert_eq!(addresses.values[0].kind, Some(Kind::StringValue("127.0.0.1".into())));
    }

    async fn events_older_than_the_retention_are_pruned(app) {
        app.create_client("svc", "read", "", &[]).await;
        app.authority.clock().advance(91 * 86_400);
        app.authority.maintain().await;
        let bearer = app.admin_token().await;
        let events = list(&app, &bearer, pb::ListEventsRequest::default()).await.events;
        assert_eq!(types(&events), ["client_created"], "only the admin made after the jump: {events:?}");
        assert_eq!(events[0].target, "root-admin");
    }
}

/// With `--audit-issuance-sync`, the line is in the file (created owner-only)
/// when the token arrives; on SIGHUP the file is opened anew, so a renamed
/// one is followed by a new one.
#[tokio::test]
async fn a_synchronous_issuance_log_is_owner_only_written_before_the_answer_and_reopened_on_sighup() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("issued.jsonl");
    // SAFETY: umask only changes this process's file-creation mask, inherited by the child.
    let old_mask = unsafe { libc::umask(0) };
    let args = [std::ffi::OsStr::new("--audit-issuance"), log.as_os_str(), "--audit-issuance-sync".as_ref()];
    let (mut child, _, address) = serve_in_child(&app, args);
    unsafe { libc::umask(old_mask) };
    let mut tokens = token_service_at(&address).await;
    let jti = |token: String| claims(&token)["jti"].as_str().unwrap().to_owned();
    let first =
        jti(tokens.issue_token(token_request("svc", &secret, "")).await.unwrap().into_inner().access_token);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains(&first), "written before the answer: {text:?}");
    assert_eq!(
        std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o600,
        "owner-only under umask 000"
    );

    let rotated = dir.path().join("issued.jsonl.1");
    std::fs::rename(&log, &rotated).unwrap();
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    let mut reopened = false;
    for _ in 0..50 {
        let second = jti(tokens
            .issue_token(token_request("svc", &secret, ""))
            .await
            .unwrap()
            .into_inner()
            .access_token);
        if std::fs::read_to_string(&log).is_ok_and(|text| text.contains(&second)) {
            reopened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(reopened, "a new file after SIGHUP");
    assert_eq!(
        std::fs::read_to_string(&rotated).unwrap().lines().next().map(|line| line.contains(&first)),
        Some(true)
    );
}

/// With `--audit-issuance`, every issued token is a JSON line naming it by
/// jti (a Transaction Token by its txn), never the token itself.
#[tokio::test]
async fn issued_tokens_are_logged_as_json_lines() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = app.create_client("svc", "read", "read", &["orders"]).await;
    let edge = ClientDraft { client_id: "edge".into(), txn_token_requester: true, ..ClientDraft::default() };
    let edge_secret = app.registry.create(edge, &Actor::cli()).await.unwrap().1.unwrap().expose().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("issued.jsonl");
    let args = [
        std::ffi::OsStr::new("--audit-issuance"),
        log.as_os_str(),
        "--txn-token-audience".as_ref(),
        "trust.example".as_ref(),
    ];
    let (mut child, _, address) = serve_in_child(&app, args);
    let mut tokens = token_service_at(&address).await;
    let mut issued = Vec::new();
    for _ in 0..3 {
        let token =
            tokens.issue_token(token_request("svc", &secret, "")).await.unwrap().into_inner().access_token;
        issued.push(token);
    }
    let txn_token = tokens
        .exchange_token(pb::ExchangeTokenRequest {
            client_id: "edge".into(),
            client_secret: edge_secret,
            subject_token: issued[0].clone(),
            subject_token_type: "urn:ietf:params:oauth:token-type:access_token".into(),
            requested_token_type: "urn:ietf:params:oauth:token-type:txn_token".into(),
            audience: vec!["trust.example".into()],
            scope: "read".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .access_token;
    let mut text = String::new();
    for _ in 0..50 {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().count() == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let logged: Vec<serde_json::Value> =
        text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(logged.len(), 4, "{text}");
    let transaction = &logged[3];
    assert_eq!(
        (transaction["token_type"].as_str(), transaction["client_id"].as_str()),
        (Some("txn_token"), Some("edge"))
    );
    assert_eq!(transaction["txn"], claims(&txn_token)["txn"], "a transaction is followed by its txn");
    assert_eq!(transaction["audience"], serde_json::json!(["trust.example"]));
    assert!(transaction.get("jti").is_none() && !text.contains(txn_token.as_str()));
    for (line, token) in logged.iter().zip(&issued) {
        let claims = claims(token);
        assert_eq!(line["token_type"], "access_token");
        assert_eq!(line["jti"], claims["jti"]);
        assert_eq!(line["client_id"], "svc");
        assert_eq!(line["scope"], "read");
        assert_eq!(line["audience"], serde_json::json!(["orders"]));
        assert_eq!(line["expires_at"], claims["exp"]);
        assert_eq!(line["origin"], "127.0.0.1");
        assert!(!text.contains(token.as_str()), "never the token itself");
    }
}
