//! kill -9 in the middle of ClientAdmin writes and revocations: every call
//! that was answered OK is there when a server starts again on the database.

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokend::contract::pb::{
    self, client_admin_client::ClientAdminClient, token_service_client::TokenServiceClient,
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};
use tonic::transport::Channel;

use crate::support::helpers::*;

/// Writers at once against the server that is killed.
const WRITERS: usize = 6;

on_both_stores! {
    async fn every_acknowledged_write_survives_kill_9(app) {
        // Bootstrapped in the database, as `tokend client create` would.
        let admin_secret = app.create_client("crash-admin", "tokend.admin", "tokend.admin", &[]).await;
        let victim_secret = app.create_client("victim", "read", "read", &[]).await;

        let mut child = Command::new(env!("CARGO_BIN_EXE_tokend"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("TOKEND_DATABASE_URL", app.database_url())
            .env("TOKEND_KEY_ENCRYPTION_KEY_FILE", app.key_file())
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).await.unwrap();
        let address = line.trim().rsplit(' ').next().unwrap().to_owned();
        let channel = Channel::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap();
        let tokens = TokenServiceClient::new(channel.clone());
        let admin_token = tokens.clone().issue_token(token_request("crash-admin", &admin_secret, "")).await.unwrap();
        let admin_token = admin_token.into_inner().access_token;
        let mut victim_tokens = Vec::new();
        for _ in 0..200 {
            let issued = tokens.clone().issue_token(token_request("victim", &victim_secret, "")).await.unwrap();
            victim_tokens.push(issued.into_inner().access_token);
        }

        let created = Arc::new(Mutex::new(Vec::new()));
        let revoked = Arc::new(Mutex::new(Vec::new()));
        let victim_tokens = Arc::new(Mutex::new(victim_tokens));
        let mut writers = Vec::new();
        for writer in 0..WRITERS {
            let (created, revoked, victim_tokens) = (created.clone(), revoked.clone(), victim_tokens.clone());
            let (mut admin, mut tokens) = (ClientAdminClient::new(channel.clone()), tokens.clone());
            let (bearer, victim_secret) = (admin_token.clone(), victim_secret.clone());
            writers.push(tokio::spawn(async move {
                for i in 0.. {
                    let id = format!("crash-{writer}-{i}");
                    let request = pb::CreateClientRequest { client_id: id.clone(), allowed_scopes: vec!["read".into()], ..Default::default() };
                    match admin.create_client(with_bearer(request, &bearer)).await {
                        Ok(_) => created.lock().unwrap().push(id),
                        Err(_) => return,
                    }
                    let Some(token) = victim_tokens.lock().unwrap().pop() else { continue };
                    let revoke = pb::RevokeRequest { token: token.clone(), token_type_hint: String::new() };
                    match tokens.revoke(with_basic(revoke, "victim", &victim_secret)).await {
                        Ok(_) => revoked.lock().unwrap().push(token),
                        Err(_) => return,
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        for writer in writers {
            writer.await.unwrap();
        }

        // The in-process server on the same database picks up what the killed one wrote.
        app.authority.maintain().await;
        let created = created.lock().unwrap().clone();
        let revoked = revoked.lock().unwrap().clone();
        assert!(created.len() >= WRITERS && !revoked.is_empty(), "the writers got going: {} {}", created.len(), revoked.len());
        for id in &created {
            app.registry.details(id).await.unwrap_or_else(|err| panic!("acknowledged client {id} is gone: {err}"));
        }
        for token in &revoked {
            let ask = pb::IntrospectRequest { token: token.clone(), token_type_hint: String::new(), signed_response: false };
            let answer = app.tokens.clone().introspect(with_basic(ask, "victim", &victim_secret)).await.unwrap();
            assert!(!answer.into_inner().active, "an acknowledged revocation was lost");
        }
    }
}
