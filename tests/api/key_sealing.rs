//! Signing keys at rest: sealed under the key-encryption key, never plain PEM.

use std::sync::Arc;

use tokend::{
    authority::{Actor, Authority, KeyRing, KeySealer, Settings, SigningAlgorithm},
    domain::Audience,
    store::Store,
};

use crate::support::helpers::*;

async fn store_of(app: &TestApp) -> Store {
    Store::connect(app.database_url()).await.unwrap()
}

on_both_stores! {
    async fn signing_keys_are_sealed_in_the_database(app) {
        app.authority.maintain().await;
        let rows = store_of(&app).await.keys().await.unwrap();
        assert!(!rows.is_empty());
        for row in rows {
            let sealer = KeySealer::load_or_create(app.key_file()).unwrap();
            let named = format!("sealed:v2:{}:", sealer.fingerprint());
            assert!(row.private_key.starts_with(&named), "{}", &row.private_key[..30]);
            assert!(!row.private_key.contains("PRIVATE KEY"));
        }
    }

    async fn another_key_file_neither_starts_a_server_nor_adds_a_key(app) {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::new(
            app.issuer().to_owned(),
            Audience::parse(DEFAULT_AUDIENCE).unwrap(),
            SigningAlgorithm::Es256,
            Arc::new(KeySealer::load_or_create(&dir.path().join("other.kek")).unwrap()),
        );
        let refused = Authority::start(store_of(&app).await, settings.clone()).await.err().expect("refused");
        let ours = KeySealer::load_or_create(app.key_file()).unwrap();
        let said = refused.to_string();
        assert!(said.contains(&format!("sealed under the key-encryption key {}", ours.fingerprint())), "{said}");
        assert!(said.contains("other.kek"), "names the file it was given: {said}");
        let rotated = KeyRing::rotate(&store_of(&app).await, app.authority.clock(), SigningAlgorithm::Es256, 0, &settings.key_custody, &Actor::cli()).await;
        assert!(rotated.is_err(), "no key is added under another key-encryption key");
    }

    async fn a_key_stored_in_plain_text_is_sealed_at_start_and_keeps_its_kid(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let before = app.token("svc", &secret, "").await.access_token;
        let store = store_of(&app).await;
        let row = store.keys().await.unwrap().remove(0);
        let sealer = KeySealer::load_or_create(app.key_file()).unwrap();
        let pem = sealer.open(&row.kid, &row.private_key).unwrap().pem;
        store.replace_private_key(&row.kid, &pem).await.unwrap();

        let app = app.restart().await;
        let resealed = store.keys().await.unwrap().remove(0);
        assert!(resealed.private_key.starts_with("sealed:v2:"));
        let after = app.token("svc", &secret, "").await.access_token;
        assert_eq!(header(&after)["kid"], header(&before)["kid"]);
    }

    async fn a_rekey_under_a_running_server_keeps_every_key_for_a_restart_with_the_new_file(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let before = app.token("svc", &secret, "").await.access_token;
        assert!(tokend_command(&app).args(["keys", "rotate", "--activate-after", "0"]).status().unwrap().success());
        let dir = tempfile::tempdir().unwrap();
        let (old_file, new_file) = (dir.path().join("old.kek"), dir.path().join("new.kek"));
        std::fs::copy(app.key_file(), &old_file).unwrap();

        let rekey = tokend_command(&app).args(["keys", "rekey", "--new-key-encryption-key-file"]).arg(&new_file).output().unwrap();
        let said = String::from_utf8_lossy(&rekey.stdout);
        assert!(rekey.status.success(), "{}", String::from_utf8_lossy(&rekey.stderr));
        let new = KeySealer::load_or_create(&new_file).unwrap();
        assert!(said.starts_with("2 signing keys sealed anew") && said.contains(new.fingerprint()), "{said}");
        let rows = store_of(&app).await.keys().await.unwrap();
        assert!(rows.iter().all(|row| new.open(&row.kid, &row.private_key).is_ok()), "every key is under the new key");
        let running = app.token("svc", &secret, "").await.access_token;
        let events = app.authority.audit().list(&tokend::authority::EventQuery { client_id: String::new(), types: vec!["keys_resealed".into()], since: 0 }, 0, "").await.unwrap().events;
        assert_eq!((events.len(), events[0].target.as_str()), (1, new.fingerprint()), "audited");

        // The old file opens nothing now, and says which file is needed.
        let refused = tokend_command(&app).env("TOKEND_KEY_ENCRYPTION_KEY_FILE", &old_file).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success() && said.contains(&format!("sealed under the key-encryption key {}", new.fingerprint())), "{said}");

        // Point the server at the new key and restart: old tokens verify, new ones are signed.
        std::fs::copy(&new_file, app.key_file()).unwrap();
        let app = app.restart().await;
        for token in [&before, &running] {
            let ask = tokend::contract::pb::IntrospectRequest { token: token.clone(), token_type_hint: String::new(), signed_response: false };
            assert!(app.tokens.clone().introspect(with_basic(ask, "svc", &secret)).await.unwrap().into_inner().active);
        }
        assert!(!app.token("svc", &secret, "").await.access_token.is_empty());
    }

    async fn a_rekey_with_the_wrong_current_file_changes_nothing(app) {
        let before = store_of(&app).await.keys().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let rekey = tokend_command(&app)
            .env("TOKEND_KEY_ENCRYPTION_KEY_FILE", dir.path().join("wrong.kek"))
            .args(["keys", "rekey", "--new-key-encryption-key-file"])
            .arg(dir.path().join("new.kek"))
            .output()
            .unwrap();
        assert!(!rekey.status.success());
        let said = String::from_utf8_lossy(&rekey.stderr);
        assert!(said.contains("sealed under the key-encryption key"), "{said}");
        let after = store_of(&app).await.keys().await.unwrap();
        let material = |rows: &[tokend::store::KeyRow]| rows.iter().map(|row| row.private_key.clone()).collect::<Vec<_>>();
        assert_eq!(material(&after), material(&before));
        assert!(!dir.path().join("new.kek").exists(), "no new key file is left behind");
        assert!(!dir.path().join("wrong.kek").exists(), "no key file is made beside a database with sealed keys");
    }
}

/// The SQLite file holds argon2 hashes and sealed keys: its owner alone reads
/// it, and the WAL and shared-memory files SQLite adds beside it.
#[tokio::test]
async fn the_sqlite_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokend.db");
    let store = Store::connect(&format!("sqlite://{}", file.display())).await.unwrap();
    store.migrate().await.unwrap();
    for name in ["tokend.db", "tokend.db-wal", "tokend.db-shm"] {
        assert_eq!(mode(&dir.path().join(name)), 0o600, "{name}");
    }
    store.close().await;

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::connect(&format!("sqlite://{}", file.display())).await.unwrap();
    assert_eq!(mode(&file), 0o600, "an older, world-readable file is tightened");
    store.close().await;
}
