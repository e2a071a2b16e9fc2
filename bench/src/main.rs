//! tokend-bench: starts a tokend server (or targets a running one) and drives
//! gRPC IssueToken, the HTTP token endpoint and gRPC Introspect at the given
//! concurrencies for a given time, printing requests/s, latency percentiles,
//! the error count and the server's peak RSS.

mod cold;
mod dpop;
mod load;
mod secretless;
mod server;
mod storm;

use std::{path::PathBuf, time::Duration};

use clap::{Parser, ValueEnum};

use crate::{load::Report, server::Server};

#[derive(Debug, Parser)]
#[command(name = "tokend-bench", about = "Load benchmark for tokend")]
struct Args {
    /// The tokend binary to start; defaults to the one built beside this one.
    #[arg(long)]
    server: Option<PathBuf>,

    /// A running server (host:port) to target instead of starting one;
    /// needs --client-id and --client-secret of a client holding tokend.introspect.
    #[arg(long, requires_all = ["client_id", "client_secret"])]
    target: Option<String>,
    #[arg(long)]
    client_id: Option<String>,
    #[arg(long)]
    client_secret: Option<String>,

    /// Concurrent requests in flight, one run per value (e.g. 1,8,64).
    #[arg(long, value_delimiter = ',', default_value = "64")]
    concurrency: Vec<usize>,

    /// How long each run lasts, in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,

    /// Unmeasured time before each run, in seconds.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,

    #[arg(long, value_delimiter = ',', default_value = "grpc-issue,http-issue,grpc-introspect")]
    scenarios: Vec<Scenario>,

    /// Clients to register before the runs (only the first is driven), to
    /// measure memory with a realistic registry.
    #[arg(long, default_value_t = 1)]
    clients: usize,

    /// Path of the form token endpoint (oidc-provider serves `/token`).
    #[arg(long, default_value = "/oauth/v2/token")]
    http_token_path: String,

    /// Extra workers sending wrong secrets for the driven client during every
    /// run, unmeasured: how well warm clients hold up under an argon2 flood.
    #[arg(long, default_value_t = 0)]
    flood: usize,

    /// Spread the flood's guesses over the first N of the registered clients
    /// (see --clients) instead of aiming at the driven one.
    #[arg(long, requires = "flood")]
    flood_spread: Option<usize>,

    /// Start the server with TLS (a certificate made for the run) and drive
    /// it over TLS, each worker on long-lived connections as real clients are.
    #[arg(long, conflicts_with = "target")]
    tls: bool,

    /// Give the driven client this rate limit (requests a second, and as
    /// many at once), to measure what the check costs when it never refuses.
    #[arg(long, conflicts_with = "target")]
    client_rate_limit: Option<u32>,

    /// Give the driven client the claims in this JSON file (`client create
    /// --claims-file`), to measure what a client's fixed claims cost per token.
    #[arg(long, conflicts_with = "target")]
    client_claims_file: Option<PathBuf>,

    /// Print one JSON object per run instead of a table row.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// IssueToken over gRPC, credentials in the request.
    GrpcIssue,
    /// IssueToken over gRPC by a client that authenticates with its TLS
    /// client certificate (tls_client_auth) and gets bound tokens; needs --tls.
    GrpcIssueMtls,
    /// POST /oauth/v2/token, client_secret_basic.
    HttpIssue,
    /// IssueToken over Connect: JSON posted to /tokend.v1.TokenService/IssueToken.
    ConnectIssue,
    /// Introspect over gRPC, the caller authenticated with Basic.
    GrpcIntrospect,
    /// IssueToken over gRPC by a private_key_jwt client: a fresh assertion
    /// signed for each request (the signing is part of the latency).
    GrpcIssueKeyJwt,
    /// IssueToken over gRPC by a client a platform's token authenticates
    /// through a federated identity: the same token for every request.
    GrpcIssueFederated,
    /// IssueToken over gRPC with the secret and a DPoP proof signed for each
    /// request (RFC 9449): DPoP-bound tokens.
    GrpcIssueDpop,
    /// Bursts of `concurrency` simultaneous IssueToken calls for a client no
    /// one has asked for yet (a new one each burst), as after a restart.
    GrpcColdBurst,
    /// `concurrency` clients register, then tokend is killed and started
    /// again and all of them ask for a token at once, retrying UNAVAILABLE
    /// with backoff: time to serve them all, and the retries it took.
    RestartStorm,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut server = match &args.target {
        Some(address) => {
            Server::target(address, args.client_id.clone().unwrap(), args.client_secret.clone().unwrap())
        }
        None => {
            let client = server::BenchClient {
                rate_limit: args.client_rate_limit,
                claims_file: args.client_claims_file.clone(),
            };
            Server::start(args.server.clone(), args.clients, args.tls, client).await?
        }
    };
    if !args.json {
        println!("{}", Report::HEADER);
    }
    for &scenario in &args.scenarios {
        for &concurrency in &args.concurrency {
            let run = load::Run {
                scenario,
                concurrency,
                duration: Duration::from_secs_f64(args.seconds),
                warmup: Duration::from_secs_f64(args.warmup),
                http_token_path: args.http_token_path.clone(),
                flood: args.flood,
                flood_spread: args.flood_spread,
            };
            let report = if scenario == Scenario::RestartStorm {
                let outcome = storm::storm(&mut server, &run).await?;
                eprintln!(
                    "restart storm: {} clients served {:.0} ms after the restart, {} UNAVAILABLE answers retried",
                    concurrency,
                    outcome.all_served.as_secs_f64() * 1000.0,
                    outcome.retried
                );
                outcome.report
            } else {
                load::drive(&server, run).await?
            };
            let peak_rss = server.peak_rss_kib();
            if args.json {
                println!("{}", report.to_json(peak_rss));
            } else {
                println!("{}", report.row(peak_rss));
                if let Some(causes) = report.error_causes() {
                    println!("  errors: {causes}");
                }
            }
        }
    }
    Ok(())
}
