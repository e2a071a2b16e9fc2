//! The operator CLI, run as the real binary against the test's database.

use std::process::Command;

use tokend::contract::pb;

use crate::support::helpers::*;

fn tokend(app: &TestApp, args: &[&str]) -> std::process::Output {
    tokend_command(app).args(args).output().expect("the tokend binary runs")
}

/// What the command printed, once it succeeded.
fn succeeds(app: &TestApp, args: &[&str]) -> String {
    let out = tokend(app, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

on_both_stores! {
    async fn a_client_made_with_the_cli_gets_tokens_from_the_server(app) {
        let out = tokend(&app, &["client", "create", "--id", "bootstrap", "--scopes", "tokend.admin read", "--default-scopes", "read", "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(created["client_id"], "bootstrap");
        let secret = created["client_secret"].as_str().unwrap();
        let issued = app.token("bootstrap", secret, "tokend.admin").await;
        assert_eq!(issued.scope, "tokend.admin");
        assert!(!String::from_utf8_lossy(&out.stderr).contains(secret), "the secret is never logged");
    }

    async fn the_cli_registers_certificate_clients_without_a_secret(app) {
        let out = tokend(&app, &["client", "create", "--id", "mesh-worker", "--scopes", "read",
            "--auth-method", "tls_client_auth", "--tls-san-uri", "spiffe://example.org/worker", "--bound-tokens", "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(created.get("client_secret").is_none(), "{created}");
        assert_eq!(created["token_endpoint_auth_methods"], "tls_client_auth");

        let dir = tempfile::tempdir().unwrap();
        let jwks = dir.path().join("edge.jwks");
        std::fs::write(&jwks, r#"{"keys":[{"kty":"EC","x5c":["AAEC"]}]}"#).unwrap();
        let out = tokend(&app, &["client", "create", "--id", "edge", "--auth-method", "self_signed_tls_client_auth",
            "--auth-method", "client_secret_basic", "--jwks-file", jwks.to_str().unwrap(), "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(created["client_secret"].as_str().is_some_and(|s| s.starts_with("tokend_")), "Basic needs a secret");

        let listed: serde_json::Value = serde_json::from_slice(&tokend(&app, &["client", "list", "--json"]).stdout).unwrap();
        assert_eq!(listed[1]["token_endpoint_auth_methods"], serde_json::json!(["tls_client_auth"]));
        assert_eq!(listed[1]["tls_client_certificate_bound_access_tokens"], true);

        let out = tokend(&app, &["client", "create", "--id", "broken", "--auth-method", "tls_client_auth"]);
        assert!(!out.status.success(), "tls_client_auth without a subject is refused");
        assert!(String::from_utf8_lossy(&out.stderr).contains("tls_client_auth needs"), "{}", String::from_utf8_lossy(&out.stderr));
    }

    async fn the_cli_registers_secretless_clients_and_trusted_issuers(app) {
        let run = |args: &[&str]| succeeds(&app, args);
        let created = run(&["client", "create", "--id", "signer", "--auth-method", "private_key_jwt",
            "--jwks-uri", "https://keys.example/signer.json", "--json"]);
        assert!(!created.contains("client_secret"), "{created}");

        run(&["issuer", "add", "--issuer", "https://token.actions.githubusercontent.com", "--discovery",
            "--audience", "https://github.com/acme", "--max-assertion-lifetime", "10m"]);
        let issuers: serde_json::Value = serde_json::from_str(&run(&["issuer", "list", "--json"])).unwrap();
        assert_eq!(issuers[0]["discovery"], true);
        assert_eq!(issuers[0]["max_assertion_lifetime_seconds"], 600);
        assert_eq!(issuers[0]["audiences"], serde_json::json!(["https://github.com/acme"]));

        run(&["client", "create", "--id", "ci", "--auth-method", "none", "--json"]);
        run(&["client", "federate", "--id", "ci", "--issuer", "https://token.actions.githubusercontent.com",
            "--subject", "repo:acme/orders:ref:refs/heads/main", "--claim", "repository_owner=acme"]);
        let out = run(&["client", "federate", "--id", "ci", "--issuer", "https://token.actions.githubusercontent.com",
            "--subject", "repo:acme/orders:environment:prod"]);
        assert!(out.contains("2 federated identities"), "{out}");
        let listed: serde_json::Value = serde_json::from_str(&run(&["client", "list", "--json"])).unwrap();
        let ci = &listed[0];
        assert_eq!(ci["token_endpoint_auth_methods"], serde_json::json!(["none"]));
        assert!(ci["secrets"].as_array().unwrap().is_empty());
        assert_eq!(ci["federated_identities"][0]["claims"]["repository_owner"], "acme");
        assert_eq!(listed[1]["jwks_uri"], "https://keys.example/signer.json");
        run(&["client", "federate", "--id", "ci", "--issuer", "https://token.actions.githubusercontent.com",
            "--subject", "repo:acme/orders:environment:prod", "--remove"]);

        let refused = tokend(&app, &["issuer", "add", "--issuer", "https://nokeys.example"]);
        assert!(!refused.status.success(), "an issuer needs keys");
        let refused = tokend(&app, &["client", "federate", "--id", "nobody", "--issuer", "x", "--subject", "y"]);
        assert!(!refused.status.success(), "an unknown client");
        run(&["issuer", "remove", "--issuer", "https://token.actions.githubusercontent.com"]);
        assert_eq!(run(&["issuer", "list", "--json"]).trim(), "[]");
    }

    async fn secrets_get_the_servers_max_age_and_the_list_finds_those_expiring(app) {
        let out = tokend(&app, &["--secret-max-age", "90d", "client", "create", "--id", "ninety", "--scopes", "read", "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = tokend(&app, &["--secret-max-age", "90d", "client", "create", "--id", "two-hours",
            "--client-secret-max-age", "2h", "--rate-limit", "50/s", "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        tokend(&app, &["client", "create", "--id", "forever", "--json"]);

        let list = |args: &[&str]| -> serde_json::Value {
            let out = tokend(&app, &[&["client", "list", "--json"], args].concat());
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            serde_json::from_slice(&out.stdout).unwrap()
        };
        let all = list(&[]);
        let lifetime = |i: usize| {
            let secret = &all[i]["secrets"][0];
            secret["expires_at"].as_i64().map(|at| at - secret["created_at"].as_i64().unwrap())
        };
        assert_eq!((all[0]["client_id"].as_str(), lifetime(0)), (Some("forever"), None));
        assert_eq!((all[1]["client_id"].as_str(), lifetime(1)), (Some("ninety"), Some(90 * 86_400)));
        assert_eq!((all[2]["client_id"].as_str(), lifetime(2)), (Some("two-hours"), Some(7200)));
        assert_eq!(all[2]["rate_limit_per_second"], 50);

        let ids = |listed: serde_json::Value| -> Vec<String> {
            listed.as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(ids(list(&["--expiring", "14d"])), ["two-hours"]);
        assert_eq!(ids(list(&["--expiring", "100d"])), ["ninety", "two-hours"]);
        assert!(ids(list(&["--unused", "30d"])).is_empty(), "all were made just now");
    }

    async fn the_cli_lists_disables_rotates_and_deletes(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let listed = tokend(&app, &["client", "list", "--json"]);
        let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
        assert_eq!(listed[0]["client_id"], "svc");
        assert_eq!(listed[0]["active"], true);

        let before_disable = app.token("svc", &secret, "").await.access_token;
        assert!(tokend(&app, &["client", "disable", "--id", "svc"]).status.success());
        // The server cached the client when it issued that token; on SQLite
        // the CLI's change reaches it at its next upkeep.
        app.authority.maintain().await;
        let refused = app.tokens.clone().issue_token(token_request("svc", &secret, "")).await;
        assert_error(&refused.unwrap_err(), tonic::Code::Unauthenticated, "invalid_client");
        assert!(tokend(&app, &["client", "enable", "--id", "svc"]).status.success());
        let request = with_basic(pb::IntrospectRequest { token: before_disable.clone(), ..Default::default() }, "svc", &secret);
        let old = app.tokens.clone().introspect(request).await.unwrap().into_inner();
        assert!(!old.active, "a token from before the disable stays dead after the enable");

        let rotated = tokend(&app, &["client", "rotate-secret", "--id", "svc", "--json"]);
        let rotated: serde_json::Value = serde_json::from_slice(&rotated.stdout).unwrap();
        app.token("svc", rotated["client_secret"].as_str().unwrap(), "").await;

        assert!(tokend(&app, &["client", "delete", "--id", "svc"]).status.success());
        let missing = tokend(&app, &["client", "delete", "--id", "svc"]);
        assert!(!missing.status.success());
        assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
    }

    async fn the_cli_moves_a_client_from_its_secret_to_a_certificate_and_back(app) {
        let secret = app.create_client("mover", "read", "read", &[]).await;
        app.token("mover", &secret, "").await;
        let run = |args: &[&str]| succeeds(&app, args);

        let said = run(&["client", "set-auth", "--id", "mover", "--auth-method", "tls_client_auth",
            "--tls-san-uri", "spiffe://example.org/mover", "--bound-tokens"]);
        assert!(said.contains("authenticates by tls_client_auth"), "{said}");
        assert!(said.contains("1 secret(s) are kept"), "{said}");
        app.authority.maintain().await; // on SQLite the CLI's change reaches the server at its upkeep
        let refused = app.tokens.clone().issue_token(token_request("mover", &secret, "")).await;
        assert_error(&refused.unwrap_err(), tonic::Code::Unauthenticated, "invalid_client");
        let listed: serde_json::Value = serde_json::from_str(&run(&["client", "list", "--json"])).unwrap();
        assert_eq!(listed[0]["token_endpoint_auth_methods"], serde_json::json!(["tls_client_auth"]));
        assert_eq!(listed[0]["tls_client_certificate_bound_access_tokens"], true);

        let out = tokend(&app, &["client", "set-auth", "--id", "mover", "--auth-method", "tls_client_auth"]);
        assert!(!out.status.success(), "tls_client_auth without a subject is refused");
        assert!(String::from_utf8_lossy(&out.stderr).contains("tls_client_auth needs"), "{}", String::from_utf8_lossy(&out.stderr));

        let said = run(&["client", "set-auth", "--id", "mover"]);
        assert!(said.contains("authenticates by client_secret_basic client_secret_post"), "{said}");
        app.authority.maintain().await;
        app.token("mover", &secret, "").await;

        run(&["client", "create", "--id", "certified", "--auth-method", "tls_client_auth", "--tls-subject-dn", "CN=certified"]);
        let said = run(&["client", "set-auth", "--id", "certified", "--auth-method", "client_secret_basic"]);
        assert!(said.contains("no secret yet: run `tokend client rotate-secret --id certified`"), "{said}");
        let missing = tokend(&app, &["client", "set-auth", "--id", "nobody"]);
        assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
    }

    async fn a_rotated_key_signs_new_tokens_and_the_old_one_still_verifies(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let old = app.token("svc", &secret, "").await.access_token;
        let out = tokend(&app, &["keys", "rotate", "--activate-after", "0", "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let said: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(said["algorithm"], "ES256");
        assert_eq!(said["activate_after"], 0);
        let new_kid = said["kid"].as_str().unwrap().to_owned();
        assert_ne!(header(&old)["kid"], new_kid.as_str());

        app.authority.maintain().await;
        let new = app.token("svc", &secret, "").await.access_token;
        assert_eq!(header(&new)["kid"], new_kid.as_str(), "the newest key signs, even one made this second");
        let jwks: serde_json::Value = reqwest::get(app.url("/oauth/v2/keys")).await.unwrap().json().await.unwrap();
        let kids: Vec<_> = jwks["keys"].as_array().unwrap().iter().map(|key| key["kid"].clone()).collect();
        assert_eq!(kids, [serde_json::json!(new_kid), header(&old)["kid"].clone()], "newest first, old kept");
        let ask = tokend::contract::pb::IntrospectRequest { token: old, token_type_hint: String::new(), signed_response: false };
        let answer = app.tokens.clone().introspect(with_basic(ask, "svc", &secret)).await.unwrap().into_inner();
        assert!(answer.active, "tokens signed by the old key stay valid");
    }

    async fn a_rotated_key_is_published_before_it_signs(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let old_kid = header(&app.token("svc", &secret, "").await.access_token)["kid"].clone();
        assert!(tokend(&app, &["keys", "rotate", "--activate-after", "3600"]).status.success());
        app.authority.maintain().await;

        let jwks: serde_json::Value = reqwest::get(app.url("/oauth/v2/keys")).await.unwrap().json().await.unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "published at once");
        let still = app.token("svc", &secret, "").await.access_token;
        assert_eq!(header(&still)["kid"], old_kid, "the old key signs until the new one's time");
        let listed: serde_json::Value = serde_json::from_slice(&tokend(&app, &["keys", "list", "--json"]).stdout).unwrap();
        let listed = &listed["keys"];
        assert_eq!((listed[0]["signing"].clone(), listed[1]["signing"].clone()), (false.into(), true.into()));

        let pending = listed[0]["kid"].as_str().unwrap();
        assert!(tokend(&app, &["keys", "retire", "--kid", pending]).status.success(), "a pending key can be withdrawn");
    }

    async fn a_superseded_key_is_listed_and_can_be_retired(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let old = app.token("svc", &secret, "").await.access_token;
        let old_kid = header(&old)["kid"].as_str().unwrap().to_owned();
        assert!(tokend(&app, &["keys", "rotate", "--activate-after", "0"]).status.success());
        let listed: serde_json::Value = serde_json::from_slice(&tokend(&app, &["keys", "list", "--json"]).stdout).unwrap();
        let listed = &listed["keys"];
        let new_kid = listed[0]["kid"].as_str().unwrap().to_owned();
        assert_eq!((listed[0]["signing"].clone(), listed[1]["kid"].clone(), listed[1]["signing"].clone()), (true.into(), old_kid.clone().into(), false.into()));

        let newest = tokend(&app, &["keys", "retire", "--kid", &new_kid, "--force"]);
        let said = String::from_utf8_lossy(&newest.stderr);
        assert!(said.contains("rotate first"), "the signing key stays: {said}");
        let early = tokend(&app, &["keys", "retire", "--kid", &old_kid]);
        assert!(!early.status.success());
        let said = String::from_utf8_lossy(&early.stderr);
        assert!(said.contains("may be live until"), "{said}");
        assert!(tokend(&app, &["keys", "retire", "--kid", &old_kid, "--force"]).status.success());

        app.authority.maintain().await;
        let jwks: serde_json::Value = reqwest::get(app.url("/oauth/v2/keys")).await.unwrap().json().await.unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
        assert_eq!(jwks["keys"][0]["kid"], new_kid.as_str());
        let ask = tokend::contract::pb::IntrospectRequest { token: old, token_type_hint: String::new(), signed_response: false };
        let answer = app.tokens.clone().introspect(with_basic(ask, "svc", &secret)).await.unwrap().into_inner();
        assert!(!answer.active, "a retired key's tokens stop verifying");
    }

    async fn serve_prints_its_address_and_exits_zero_on_sigterm(app) {
        serve_and_terminate(&app).await;
    }

    async fn add_key_writes_a_zitadel_key_file_once_and_remove_key_takes_the_key_back(app) {
        succeeds(&app, &["client", "create", "--id", "svc-user", "--scopes", "read", "--json"]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc-user.json");
        let out = succeeds(&app, &["client", "add-key", "--id", "svc-user", "--out", path.to_str().unwrap()]);
        let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let kid = file["keyId"].as_str().unwrap().to_owned();
        assert!(out.contains(&kid) && out.contains("JWT bearer grant"), "{out}");
        assert!(!out.contains("PRIVATE KEY"), "the key goes to the file only: {out}");
        assert_eq!((file["type"].as_str(), file["userId"].as_str()), (Some("serviceaccount"), Some("svc-user")));
        assert!(file["key"].as_str().unwrap().starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "its owner's alone");
        }

        let again = tokend(&app, &["client", "add-key", "--id", "svc-user", "--out", path.to_str().unwrap()]);
        assert!(!again.status.success(), "an existing file is never overwritten");
        assert!(String::from_utf8_lossy(&again.stderr).contains("never overwritten"), "{}", String::from_utf8_lossy(&again.stderr));
        let listed: serde_json::Value = serde_json::from_str(&succeeds(&app, &["client", "list", "--json"])).unwrap();
        let jwks: serde_json::Value = serde_json::from_str(listed[0]["jwks"].as_str().unwrap()).unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "the refused run registered nothing");
        assert!(listed[0]["grant_types"].as_array().unwrap().contains(&serde_json::json!("urn:ietf:params:oauth:grant-type:jwt-bearer")));

        let pem = dir.path().join("es.pem");
        succeeds(&app, &["client", "add-key", "--id", "svc-user", "--algorithm", "ES256", "--format", "pem", "--out", pem.to_str().unwrap()]);
        assert!(std::fs::read_to_string(&pem).unwrap().starts_with("-----BEGIN PRIVATE KEY-----"));

        let out = succeeds(&app, &["client", "remove-key", "--id", "svc-user", "--kid", &kid]);
        assert!(out.contains(&kid), "{out}");
        let unknown = tokend(&app, &["client", "remove-key", "--id", "svc-user", "--kid", &kid]);
        assert!(!unknown.status.success(), "a key is removed once");
        let listed: serde_json::Value = serde_json::from_str(&succeeds(&app, &["client", "list", "--json"])).unwrap();
        let jwks: serde_json::Value = serde_json::from_str(listed[0]["jwks"].as_str().unwrap()).unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "the ES256 key stays");
    }
}

/// `tokend serve` on port 0 prints its address, answers, and exits 0 on SIGTERM.
async fn serve_and_terminate(app: &TestApp) {
    use std::io::BufRead;
    let mut child = tokend_command(app)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let address = line.trim().strip_prefix("tokend listening on ").expect("the address line").to_owned();
    let channel =
        tonic::transport::Channel::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    health.check(tonic_health::pb::HealthCheckRequest::default()).await.unwrap();
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    // Waited for off the runtime, so the client's connection can see the server go.
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// With `--http-listen`, HTTP answers on its own port and gRPC stays on the main one.
#[tokio::test]
async fn the_http_adapter_can_have_an_address_of_its_own() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokend"))
        .args(["serve", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"])
        .env("TOKEND_DATABASE_URL", format!("sqlite://{}", dir.path().join("t.db").display()))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let grpc = lines.next().unwrap().unwrap().rsplit(' ').next().unwrap().to_owned();
    let http = lines.next().unwrap().unwrap().rsplit(' ').next().unwrap().to_owned();
    let metadata: serde_json::Value =
        reqwest::get(format!("http://{http}/.well-known/oauth-authorization-server"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(metadata["issuer"], format!("http://{http}"));
    let channel =
        tonic::transport::Channel::from_shared(format!("http://{grpc}")).unwrap().connect().await.unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    health.check(tonic_health::pb::HealthCheckRequest::default()).await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Logs written to a file or a pipe carry no terminal colour codes.
#[tokio::test]
async fn logs_into_a_pipe_have_no_colour_codes() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokend"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TOKEND_DATABASE_URL", format!("sqlite://{}", dir.path().join("t.db").display()))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(first.contains("WARN") && first.contains("without TLS"), "{first}");
    assert!(!first.contains('\u{1b}'), "no escape codes: {first:?}");
}

/// A port that is taken is named, with the setting that asked for it.
#[tokio::test]
async fn a_port_clash_names_the_address_and_the_listener() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    for args in [["--listen", address.as_str()], ["--metrics-listen", address.as_str()]] {
        let out = Command::new(env!("CARGO_BIN_EXE_tokend"))
            .arg("serve")
            .args(if args[0] == "--listen" { vec![] } else { vec!["--listen", "127.0.0.1:0"] })
            .args(args)
            .env("TOKEND_DATABASE_URL", format!("sqlite://{}", dir.path().join("t.db").display()))
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(said.contains(&address) && said.contains(args[0]), "{args:?}: {said}");
    }
}

/// A database that cannot be opened is named (its password hidden), with
/// the driver's cause and the likely fix.
#[tokio::test]
async fn a_database_that_cannot_be_opened_says_what_was_tried_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing_folder = format!("sqlite://{}/no-such-folder/t.db", dir.path().display());
    let cases = [
        ("tokend.db", vec!["tokend.db", "sqlite://FILE"]),
        (missing_folder.as_str(), vec!["no-such-folder does not exist", "mkdir"]),
        (
            "postgres://postgres:hunter2@127.0.0.1:1/tokend",
            vec!["127.0.0.1:1", "***", "is PostgreSQL running"],
        ),
    ];
    for (url, expected) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_tokend"))
            .args(["client", "list"])
            .current_dir(dir.path())
            .env("TOKEND_DATABASE_URL", url)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{url}");
        for part in expected {
            assert!(said.contains(part), "{url}: {part:?} not in {said}");
        }
        assert!(!said.contains("hunter2"), "the password is never shown: {said}");
    }
    assert!(!dir.path().join("tokend.db").exists(), "nothing is created for a URL that is no URL");
}

/// With `--log-format json`, every line on stderr is one JSON object with
/// the time, the level and the message.
#[tokio::test]
async fn logs_can_be_json_lines() {
    use std::io::BufRead;
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut child = tokend_command(&app)
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Serving without TLS is warned about at start.
    let line = std::io::BufReader::new(child.stderr.take().unwrap()).lines().next().unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let line: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
    assert_eq!(line["level"], "WARN");
    assert!(line["message"].as_str().unwrap().starts_with("serving without TLS"), "{line}");
    assert!(line["timestamp"].is_string(), "{line}");
}

/// `tokend serve` on `app`'s database, logging JSON at `rust_log` to its
/// piped stderr; the process and the address it listens on.
fn serve_logging_json(app: &TestApp, rust_log: &str) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = tokend_command(app)
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", rust_log)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let address = line.trim().trim_start_matches("tokend listening on ").to_owned();
    (child, address)
}

/// Each request is a log line with its operation, outcome, duration, client
/// id and the trace id of its `traceparent`: failures at INFO, the rest at DEBUG.
#[tokio::test]
async fn each_request_is_a_json_line_that_joins_its_trace() {
    use std::io::BufRead;
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let (mut child, address) = serve_logging_json(&app, "warn,tokend::request=debug");
    let channel =
        tonic::transport::Channel::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap();
    let mut tokens = tokend::contract::pb::token_service_client::TokenServiceClient::new(channel);
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut traced = tonic::Request::new(token_request("svc", &secret, ""));
    let traceparent = format!("00-{trace}-00f067aa0ba902b7-01");
    traced.metadata_mut().insert("traceparent", traceparent.parse().unwrap());
    tokens.issue_token(traced).await.unwrap();
    tokens.issue_token(token_request("svc", "wrong", "")).await.unwrap_err();
    let form = [("grant_type", "client_credentials")];
    let http = reqwest::Client::new().post(format!("http://{address}/oauth/v2/token"));
    assert_eq!(http.basic_auth("svc", Some(&secret)).form(&form).send().await.unwrap().status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();

    let lines: Vec<serde_json::Value> = std::io::BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map(|line| serde_json::from_str(&line.unwrap()).unwrap())
        .filter(|line: &serde_json::Value| line["target"] == "tokend::request")
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let (issued, refused, over_http) = (&lines[0], &lines[1], &lines[2]);
    assert_eq!((issued["level"].as_str(), issued["operation"].as_str()), (Some("DEBUG"), Some("IssueToken")));
    assert_eq!((issued["outcome"].as_str(), issued["client_id"].as_str()), (Some("OK"), Some("svc")));
    assert_eq!(issued["trace_id"], trace);
    assert!(issued["duration_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(
        (refused["level"].as_str(), refused["outcome"].as_str()),
        (Some("INFO"), Some("Unauthenticated"))
    );
    assert!(refused.get("trace_id").is_none() && refused.get("client_id").is_none(), "{refused}");
    assert_eq!(over_http["operation"], "/oauth/v2/token");
    assert_eq!((over_http["outcome"].as_str(), over_http["client_id"].as_str()), (Some("200"), Some("svc")));
}

/// A flood of refused requests writes the first lines of each kind in a
/// minute, not one per request; the metrics still count every one.
#[tokio::test]
async fn a_flood_of_refused_requests_writes_a_bounded_number_of_lines() {
    use std::io::BufRead;
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.create_client("svc", "read", "read", &[]).await;
    let (mut child, address) = serve_logging_json(&app, "info");
    let channel =
        tonic::transport::Channel::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap();
    let mut tokens = tokend::contract::pb::token_service_client::TokenServiceClient::new(channel);
    let flood = tokend::observe::access_log::LINES_PER_MINUTE * 3;
    for _ in 0..flood {
        tokens.issue_token(token_request("svc", "wrong", "")).await.unwrap_err();
    }
    let samples = crate::support::scrape::scrape(&format!("http://{address}/metrics")).await;
    let counted =
        r#"tokend_request_duration_seconds_count{operation="IssueToken",outcome="Unauthenticated"}"#;
    assert_eq!(crate::support::scrape::get(&samples, counted), flood as f64);
    child.kill().unwrap();
    child.wait().unwrap();

    let refused = std::io::BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(&line.unwrap()).unwrap())
        .filter(|line| line["target"] == "tokend::request" && line["outcome"] == "Unauthenticated")
        .count();
    assert_eq!(refused as u64, tokend::observe::access_log::LINES_PER_MINUTE);
}

/// `tokend backup` copies a SQLite database while a server uses it; a server
/// on the copy, with the same key file, knows the clients, verifies the
/// tokens issued before and signs with the same key.
#[tokio::test]
async fn a_backup_taken_while_serving_brings_back_clients_keys_and_tokens() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let before = app.token("svc", &secret, "").await.access_token;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let copy_arg = copy.to_str().unwrap();

    let said = succeeds(&app, &["backup", "--to", copy_arg]);
    assert!(said.contains(&format!("keep it with the key file {}", app.key_file().display())), "{said}");
    assert_eq!(std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777, 0o600, "owner only");
    let again = tokend(&app, &["backup", "--to", copy_arg]);
    assert!(!again.status.success(), "an existing file is never overwritten");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let nowhere = dir.path().join("no/such/folder/copy.db");
    let refused = tokend(&app, &["backup", "--to", nowhere.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && said.contains("cannot create") && said.contains("No such file"),
        "{said}"
    );

    let mut on_the_copy = tokend_command(&app);
    on_the_copy.env("TOKEND_DATABASE_URL", format!("sqlite://{copy_arg}"));
    // The same name as the server that issued the tokens: instances behind one name share --issuer.
    let (mut restored, _, address) = serve_child(on_the_copy, ["--issuer", app.issuer()]);
    let mut tokens = token_service_at(&address).await;
    let after =
        tokens.issue_token(token_request("svc", &secret, "")).await.unwrap().into_inner().access_token;
    let request = pb::IntrospectRequest { token: before.clone(), ..Default::default() };
    let seen = tokens.introspect(with_basic(request, "svc", &secret)).await.unwrap().into_inner();
    restored.kill().unwrap();
    restored.wait().unwrap();
    assert!(seen.active, "a token from before the backup is active on the copy");
    let kid = |token: &str| jsonwebtoken::decode_header(token).unwrap().kid;
    assert_eq!(kid(&after), kid(&before), "the copy signs with the same key");
}

/// PostgreSQL is backed up with its own tools; `tokend backup` says so.
#[tokio::test]
async fn a_backup_of_postgresql_points_to_pg_dump() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let out = tokend(&app, &["backup", "--to", copy.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pg_dump"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!copy.exists(), "nothing is written");
}
