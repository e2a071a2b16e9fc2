//! The operator CLI, run as the real binary against the test's database.

use std::process::Command;

use crate::helpers::*;

fn tokend(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tokend"))
        .env("TOKEND_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .args(args)
        .output()
        .expect("the tokend binary runs")
}

on_both_stores! {
    async fn a_client_made_with_the_cli_gets_tokens_from_the_server(app) {
        let out = tokend(app.database_url(), &["client", "create", "--id", "bootstrap", "--scopes", "tokend.admin read", "--default-scopes", "read", "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(created["client_id"], "bootstrap");
        let secret = created["client_secret"].as_str().unwrap();
        let issued = app.token("bootstrap", secret, "tokend.admin").await;
        assert_eq!(issued.scope, "tokend.admin");
        assert!(!String::from_utf8_lossy(&out.stderr).contains(secret), "the secret is never logged");
    }

    async fn the_cli_lists_disables_rotates_and_deletes(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let listed = tokend(app.database_url(), &["client", "list", "--json"]);
        let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
        assert_eq!(listed[0]["client_id"], "svc");
        assert_eq!(listed[0]["active"], true);

        assert!(tokend(app.database_url(), &["client", "disable", "--id", "svc"]).status.success());
        let refused = app.tokens.clone().issue_token(token_request("svc", &secret, "")).await;
        assert!(refused.is_err());
        assert!(tokend(app.database_url(), &["client", "enable", "--id", "svc"]).status.success());

        let rotated = tokend(app.database_url(), &["client", "rotate-secret", "--id", "svc", "--json"]);
        let rotated: serde_json::Value = serde_json::from_slice(&rotated.stdout).unwrap();
        app.token("svc", rotated["client_secret"].as_str().unwrap(), "").await;

        assert!(tokend(app.database_url(), &["client", "delete", "--id", "svc"]).status.success());
        let missing = tokend(app.database_url(), &["client", "delete", "--id", "svc"]);
        assert!(!missing.status.success());
        assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
    }
}
