//! Restart storm: `concurrency` clients, each warm in tokend's cache, all ask
//! for a token at once right after tokend is killed and started again (a
//! rolling restart, an evicted pod). Every secret then needs its own argon2
//! check; what the queue cannot hold is refused UNAVAILABLE and retried with
//! the jittered exponential backoff `tokend-client` uses. Reports the time
//! from restart to each client's token, and how many answers were retries.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokend_client::pb::token_service_client::TokenServiceClient;
use tokio::sync::Semaphore;
use tonic::Code;

use crate::{
    load::{Report, Run},
    server::{self, Server},
};

/// Backoff between retries, as `tokend-client`'s: from 50 ms, doubling, at most 1 s, jittered.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// What a storm found besides the latencies.
pub struct StormOutcome {
    pub report: Report,
    /// UNAVAILABLE answers that were retried.
    pub retried: u64,
    /// From the restart to the last client's token.
    pub all_served: Duration,
}

pub async fn storm(server: &mut Server, run: &Run) -> Result<StormOutcome, Box<dyn std::error::Error>> {
    let channel = server.channel().await?;
    let bearer = server.admin_bearer(&channel).await?;
    // Registered 16 at a time (each is an argon2 hash).
    let in_flight = Arc::new(Semaphore::new(16));
    let mut registering = Vec::with_capacity(run.concurrency);
    for i in 0..run.concurrency {
        let permit = in_flight.clone().acquire_owned().await?;
        let (channel, bearer, address) = (channel.clone(), bearer.clone(), server.address.clone());
        registering.push(tokio::spawn(async move {
            let client_id = format!("storm-{i:05}");
            let secret = server::create_client(channel, bearer, client_id.clone()).await;
            drop(permit);
            secret.map(|secret| Server::target(&address, client_id, secret.clone()).issue_request(&secret))
        }));
    }
    let mut clients = Vec::with_capacity(run.concurrency);
    for registered in registering {
        clients.push(registered.await??);
    }
    server.restart().await?;
    let mut channels = Vec::new();
    for _ in 0..4 {
        channels.push(server.channel().await?);
    }
    let retried = Arc::new(AtomicU64::new(0));
    let restarted = Instant::now();
    let callers: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, request)| {
            let mut tokens = TokenServiceClient::new(channels[i % channels.len()].clone());
            let retried = retried.clone();
            tokio::spawn(async move {
                let mut backoff = FIRST_BACKOFF;
                loop {
                    match tokens.issue_token(request.clone()).await {
                        Ok(_) => return (restarted.elapsed(), true),
                        Err(status) if status.code() == Code::Unavailable => {
                            retried.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(jittered(backoff)).await;
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                        }
                        Err(_) => return (restarted.elapsed(), false),
                    }
                }
            })
        })
        .collect();
    let mut report = Report::new(run, Duration::ZERO)?;
    let mut all_served = Duration::ZERO;
    for caller in callers {
        let (waited, succeeded) = caller.await?;
        all_served = all_served.max(waited);
        report.record(waited, succeeded);
    }
    report.finish(all_served);
    Ok(StormOutcome { report, retried: retried.load(Ordering::Relaxed), all_served })
}

/// Between half and all of `backoff`, as `tokend-client` does.
fn jittered(backoff: Duration) -> Duration {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    backoff / 2 + backoff.mul_f64(f64::from(nanos % 1000) / 2000.0)
}
