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
            assert!(row.private_key.starts_with("sealed:v1:"), "{}", &row.private_key[..20]);
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
        assert!(refused.to_string().contains("does not open with this key-encryption key"), "{refused}");
        let rotated = KeyRing::rotate(&store_of(&app).await, app.authority.clock(), SigningAlgorithm::Es256, 0, &settings.key_sealer, &Actor::cli()).await;
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
        assert!(resealed.private_key.starts_with("sealed:v1:"));
        let after = app.token("svc", &secret, "").await.access_token;
        assert_eq!(header(&after)["kid"], header(&before)["kid"]);
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
