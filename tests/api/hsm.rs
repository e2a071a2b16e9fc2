//! Signing keys in an HSM through PKCS#11, against SoftHSM2: made in the
//! token, never extractable, never in the database; tokens they sign verify
//! with the published keys; wrong settings are refused at start.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use tokend::{contract::pb, store::Store};

use crate::support::{helpers::*, softhsm::SoftToken};

/// `tokend` on the app's database, using `token`'s HSM.
fn with_hsm(app: &TestApp, token: &SoftToken) -> std::process::Command {
    let mut command = tokend_command(app);
    token.configure(&mut command);
    command
}

/// Makes a signing key in the token that signs at once; its kid.
fn rotate_into(app: &TestApp, token: &SoftToken, algorithm: &str) -> String {
    rotate_rsa_into(app, token, algorithm, "2048")
}

/// The same, RSA keys being `bits` long.
fn rotate_rsa_into(app: &TestApp, token: &SoftToken, algorithm: &str, bits: &str) -> String {
    let rotated = with_hsm(app, token)
        .args(["keys", "rotate", "--activate-after", "0", "--json", "--algorithm", algorithm])
        .args(["--rsa-key-bits", bits])
        .output()
        .unwrap();
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let said: serde_json::Value = serde_json::from_slice(&rotated.stdout).unwrap();
    said["kid"].as_str().unwrap().to_owned()
}

/// Checks `token` with the key its header names, fetched from `address`'s
/// JWKS, by `jsonwebtoken` alone (not tokend's own verifier): its claims,
/// and the key as published.
async fn verify_with_published_keys(
    address: &str,
    issuer: &str,
    token: &str,
) -> (serde_json::Value, serde_json::Value) {
    let jwks: JwkSet =
        reqwest::get(format!("http://{address}/oauth/v2/keys")).await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("the signing key is published");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[DEFAULT_AUDIENCE]);
    validation.set_issuer(&[issuer]);
    let decoded =
        jsonwebtoken::decode::<serde_json::Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation);
    (decoded.expect("the signature verifies").claims, serde_json::to_value(jwk).unwrap())
}

fn active_at(address: &str, secret: &str, token: &str) -> impl std::future::Future<Output = bool> {
    let (address, secret, token) = (address.to_owned(), secret.to_owned(), token.to_owned());
    async move {
        let ask = pb::IntrospectRequest { token, token_type_hint: String::new(), signed_response: false };
        let answer =
            token_service_at(&address).await.introspect(with_basic(ask, "svc", &secret)).await.unwrap();
        answer.into_inner().active
    }
}

on_both_stores! {
    async fn keys_made_in_an_hsm_sign_and_never_reach_the_database(app) {
        let Some(token) = SoftToken::new() else { return };
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let before = app.token("svc", &secret, "").await.access_token;
        let kid = rotate_into(&app, &token, "ES256");

        let rows = Store::connect(app.database_url()).await.unwrap().keys().await.unwrap();
        let row = rows.iter().find(|row| row.kid == kid).unwrap();
        assert!(row.private_key.starts_with("pkcs11:token=tokend;id=%"), "a reference: {}", row.private_key);
        assert!(row.public_jwk.as_deref().is_some_and(|jwk| !jwk.contains("\"d\"")), "the public half only");
        let objects = token.objects("privkey");
        assert!(objects.contains(&format!("label:      {kid}")), "{objects}");
        let listed = tokend_command(&app).args(["keys", "list", "--json"]).output().unwrap();
        let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
        let held: Vec<&str> = listed["keys"].as_array().unwrap().iter().map(|key| key["held_in"].as_str().unwrap()).collect();
        assert_eq!(held, ["hsm", "database"]);
        assert!(objects.contains("sensitive") && objects.contains("never extractable"), "{objects}");

        let (mut child, _, address) = serve_child(with_hsm(&app, &token), ["--issuer", app.issuer()]);
        let issued = token_service_at(&address).await.issue_token(token_request("svc", &secret, "")).await;
        let issued = issued.unwrap().into_inner().access_token;
        assert_eq!(header(&issued)["kid"], kid.as_str(), "the HSM's key signs");
        assert_eq!(verify_with_published_keys(&address, app.issuer(), &issued).await.0["client_id"], "svc");
        assert!(active_at(&address, &secret, &before).await, "the key from before the HSM still verifies");
        assert!(active_at(&address, &secret, &issued).await);
        child.kill().unwrap();
    }

    async fn a_server_needs_the_hsm_once_the_newest_key_lives_there(app) {
        let Some(token) = SoftToken::new() else { return };
        let kid = rotate_into(&app, &token, "ES256");
        let refused = tokend_command(&app).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{said}");
        assert!(said.contains(&kid) && said.contains("--pkcs11-module") && said.contains("--pkcs11-pin-file"), "{said}");

        token.delete_private_key(&kid);
        let missing = with_hsm(&app, &token).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
        let said = String::from_utf8_lossy(&missing.stderr);
        assert!(!missing.status.success() && said.contains("no such private key"), "{said}");
    }
}

#[tokio::test]
async fn wrong_hsm_settings_are_refused_at_start_saying_which() {
    let Some(token) = SoftToken::new() else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wrong_pin = dir.path().join("wrong-pin");
    std::fs::write(&wrong_pin, "0000").unwrap();
    let cases: [(&str, &str, &str); 3] = [
        ("TOKEND_PKCS11_PIN_FILE", wrong_pin.to_str().unwrap(), "refuses this PIN"),
        ("TOKEND_PKCS11_TOKEN_LABEL", "nope", "no token of"),
        ("TOKEND_PKCS11_MODULE", "/etc/hostname", "does not load as a PKCS#11 module"),
    ];
    for (variable, value, expected) in cases {
        let refused = with_hsm(&app, &token)
            .env(variable, value)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success() && said.contains(expected), "{variable}={value}: {said}");
    }
    let half = tokend_command(&app)
        .env("TOKEND_PKCS11_MODULE", crate::support::softhsm::MODULE)
        .args(["keys", "rotate"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&half.stderr);
    assert!(said.contains("--pkcs11-token-label and --pkcs11-pin-file"), "{said}");
}

#[tokio::test]
async fn rsa_keys_in_the_hsm_sign_rs256_and_ps256_tokens_that_verify() {
    let Some(token) = SoftToken::new() else { return };
    for (algorithm, bits) in [("RS256", 2048), ("PS256", 3072)] {
        let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let kid = rotate_rsa_into(&app, &token, algorithm, &bits.to_string());
        let (mut child, _, address) =
            serve_child(with_hsm(&app, &token), ["--issuer", app.issuer(), "--signing-algorithm", algorithm]);
        let issued = token_service_at(&address).await.issue_token(token_request("svc", &secret, "")).await;
        let issued = issued.unwrap().into_inner().access_token;
        let signed_by = (header(&issued)["alg"].as_str().map(str::to_owned), header(&issued)["kid"].clone());
        assert_eq!(signed_by, (Some(algorithm.to_owned()), kid.as_str().into()));
        let (_, published) = verify_with_published_keys(&address, app.issuer(), &issued).await;
        let modulus = URL_SAFE_NO_PAD.decode(published["n"].as_str().unwrap()).unwrap();
        assert_eq!(modulus.len() * 8, bits, "{algorithm}");
        child.kill().unwrap();
    }
}

#[tokio::test]
async fn a_scheduled_rotation_makes_the_next_key_in_the_hsm() {
    let Some(token) = SoftToken::new() else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let schedule = ["--key-rotation-period", "2s", "--key-activation-delay", "1s"];
    let (mut child, _, _) = serve_child(with_hsm(&app, &token), schedule);
    let store = Store::connect(app.database_url()).await.unwrap();
    let mut in_hsm = Vec::new();
    for _ in 0..100 {
        in_hsm = store
            .keys()
            .await
            .unwrap()
            .into_iter()
            .filter(|row| row.private_key.starts_with("pkcs11:"))
            .collect();
        if !in_hsm.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    child.kill().unwrap();
    let made = in_hsm.first().expect("the schedule made a key within 20 s");
    assert!(token.objects("privkey").contains(&format!("label:      {}", made.kid)));
}

#[tokio::test]
async fn two_instances_on_postgres_sharing_one_token_both_sign() {
    let Some(token) = SoftToken::new() else { return };
    let Some(app) = TestApp::spawn(Backend::Postgres).await else { return };
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let kid = rotate_into(&app, &token, "ES256");
    let (mut first, _, one) = serve_child(with_hsm(&app, &token), ["--issuer", app.issuer()]);
    let (mut second, _, two) = serve_child(with_hsm(&app, &token), ["--issuer", app.issuer()]);
    for (signer, checker) in [(&one, &two), (&two, &one)] {
        let issued = token_service_at(signer).await.issue_token(token_request("svc", &secret, "")).await;
        let issued = issued.unwrap().into_inner().access_token;
        assert_eq!(header(&issued)["kid"], kid.as_str());
        assert!(active_at(checker, &secret, &issued).await, "{signer}'s token verifies at {checker}");
    }
    first.kill().unwrap();
    second.kill().unwrap();
}
