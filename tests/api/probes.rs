//! `GET /healthz` and `GET /readyz`: alive whatever the database does; ready
//! exactly while the database answers, with the reason when not.

use serde_json::Value;

use crate::support::helpers::*;

async fn probe(app: &TestApp, path: &str) -> (u16, Value) {
    let response = reqwest::get(app.url(path)).await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap())
}

on_both_stores! {
    async fn a_running_server_is_alive_and_ready(app) {
        assert_eq!(probe(&app, "/healthz").await.0, 200);
        let (status, body) = probe(&app, "/readyz").await;
        assert_eq!(status, 200);
        assert_eq!(body["signing_key"], app.authority.keys().signing.kid.as_str());
        let wrong_method = reqwest::Client::new().post(app.url("/readyz")).send().await.unwrap();
        assert_eq!(wrong_method.status(), 405);
    }
}

/// Cutting the database makes the server not ready (503 with a reason) but
/// still alive; restoring it makes it ready again, without a restart.
#[tokio::test]
async fn readiness_follows_the_database() {
    let Some((app, proxy)) = TestApp::spawn_behind_proxy().await else {
        return;
    };
    proxy.cut();
    let (status, body) = probe(&app, "/readyz").await;
    assert_eq!(status, 503);
    assert_eq!(body["reason"], "the database does not answer");
    assert_eq!(probe(&app, "/healthz").await.0, 200, "alive through the outage");
    proxy.restore().await;
    let mut ready = false;
    for _ in 0..50 {
        if probe(&app, "/readyz").await.0 == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "ready again once the database answers");
}
