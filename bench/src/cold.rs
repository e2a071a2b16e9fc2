//! Cold bursts: `concurrency` callers ask for a token for the same client at
//! the same moment, before anyone has (as every instance of a service does
//! after a restart of tokend); a new client each burst, so every burst is cold.

use std::time::{Duration, Instant};

use tokend_client::pb::token_service_client::TokenServiceClient;

use crate::{
    load::{Report, Run},
    server::{self, Server},
};

pub async fn bursts(server: &Server, run: &Run) -> Result<Report, Box<dyn std::error::Error>> {
    let channel = server.channel().await?;
    let bearer = server.admin_bearer(&channel).await?;
    let started = Instant::now();
    let mut report = Report::new(run, Duration::ZERO)?;
    let mut burst = 0;
    while started.elapsed() < run.warmup + run.duration {
        burst += 1;
        let client_id = format!("cold-{}-{burst:06}", run.concurrency);
        let secret = server::create_client(channel.clone(), bearer.clone(), client_id.clone()).await?;
        let target = Server::target(&server.address, client_id, secret.clone());
        let calls: Vec<_> = (0..run.concurrency)
            .map(|_| {
                let mut tokens = TokenServiceClient::new(channel.clone());
                let request = target.issue_request(&secret);
                tokio::spawn(async move {
                    let sent = Instant::now();
                    let issued = tokens.issue_token(request).await;
                    (sent.elapsed(), issued.is_ok())
                })
            })
            .collect();
        let measured = started.elapsed() >= run.warmup;
        for call in calls {
            let (latency, succeeded) = call.await?;
            if measured {
                report.record(latency, succeeded);
            }
        }
    }
    report.finish(started.elapsed().saturating_sub(run.warmup));
    Ok(report)
}
