//! Driving one scenario at one concurrency for a fixed time, and reporting it.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use hdrhistogram::Histogram;
use serde_json::json;
use tokend_client::pb::{self, token_service_client::TokenServiceClient};
// Bytes as tonic re-exports it: request bodies cloned per call without copying.
use tonic::{Request, codegen::Bytes, transport::Channel};

use crate::{
    Scenario,
    dpop::DpopProver,
    secretless::Secretless,
    server::{CERTIFICATE_CLIENT, Server},
};

/// HTTP/2 connections the gRPC load is spread over; streams multiplex on them.
const GRPC_CONNECTIONS: usize = 4;

pub struct Run {
    pub scenario: Scenario,
    pub concurrency: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub http_token_path: String,
    pub flood: usize,
    /// Guesses go to this many registered fleet clients in turn; `None`: the driven client.
    pub flood_spread: Option<usize>,
}

pub struct Report {
    scenario: Scenario,
    concurrency: usize,
    flood: usize,
    elapsed: Duration,
    ok: u64,
    errors: u64,
    /// Failed calls by what went wrong, so the error column can be traced to a side.
    error_causes: BTreeMap<String, u64>,
    latency_us: Histogram<u64>,
}

impl Report {
    /// An empty report of a run that lasted `elapsed`.
    pub fn new(run: &Run, elapsed: Duration) -> Result<Self, hdrhistogram::CreationError> {
        Ok(Report {
            scenario: run.scenario,
            concurrency: run.concurrency,
            flood: run.flood,
            elapsed,
            ok: 0,
            errors: 0,
            error_causes: BTreeMap::new(),
            latency_us: Histogram::new_with_bounds(1, 60_000_000, 3)?,
        })
    }

    /// Sets how long the measured part of the run lasted.
    pub fn finish(&mut self, elapsed: Duration) {
        self.elapsed = elapsed;
    }

    /// Counts one call that took `latency`.
    pub fn record(&mut self, latency: Duration, succeeded: bool) {
        self.latency_us.saturating_record(latency.as_micros() as u64);
        if succeeded {
            self.ok += 1;
        } else {
            self.errors += 1;
        }
    }

    pub const HEADER: &str = "scenario          conc flood   requests/s        ok   errors   p50 ms   p99 ms  p99.9 ms    max ms  peak RSS MiB";

    pub fn requests_per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn ms(&self, quantile: f64) -> f64 {
        self.latency_us.value_at_quantile(quantile) as f64 / 1000.0
    }

    pub fn row(&self, peak_rss_kib: Option<u64>) -> String {
        let rss = peak_rss_kib.map_or("-".into(), |kib| format!("{:.1}", kib as f64 / 1024.0));
        format!(
            "{:<17} {:>4} {:>5} {:>12.0} {:>9} {:>8} {:>8.2} {:>8.2} {:>9.2} {:>9.2}  {:>12}",
            format!("{:?}", self.scenario),
            self.concurrency,
            self.flood,
            self.requests_per_second(),
            self.ok,
            self.errors,
            self.ms(0.5),
            self.ms(0.99),
            self.ms(0.999),
            self.latency_us.max() as f64 / 1000.0,
            rss
        )
    }

    /// What the failed calls were, most frequent first: `1328 × HTTP 503, 2 × …`;
    /// `None` when none failed.
    pub fn error_causes(&self) -> Option<String> {
        let mut causes: Vec<(&String, &u64)> = self.error_causes.iter().collect();
        causes.sort_by(|a, b| b.1.cmp(a.1));
        let listed: Vec<String> = causes.iter().map(|(cause, count)| format!("{count} × {cause}")).collect();
        (!listed.is_empty()).then(|| listed.join(", "))
    }

    pub fn to_json(&self, peak_rss_kib: Option<u64>) -> String {
        json!({
            "scenario": format!("{:?}", self.scenario),
            "concurrency": self.concurrency,
            "flood": self.flood,
            "seconds": self.elapsed.as_secs_f64(),
            "requests_per_second": self.requests_per_second(),
            "ok": self.ok,
            "errors": self.errors,
            "error_causes": self.error_causes,
            "p50_ms": self.ms(0.5),
            "p99_ms": self.ms(0.99),
            "p999_ms": self.ms(0.999),
            "max_ms": self.latency_us.max() as f64 / 1000.0,
            "peak_rss_kib": peak_rss_kib,
        })
        .to_string()
    }
}

/// One request of a scenario, made ready once per worker.
#[derive(Clone)]
enum Caller {
    Grpc {
        client: TokenServiceClient<Channel>,
        secret: String,
        introspect: Option<String>,
    },
    /// A client id and no secret, on a connection that presents the client's certificate.
    Certificate {
        client: TokenServiceClient<Channel>,
        request: pb::IssueTokenRequest,
    },
    /// One POST, the same each time: the OAuth endpoint or a Connect method.
    Http {
        client: reqwest::Client,
        url: String,
        headers: reqwest::header::HeaderMap,
        body: Bytes,
    },
    /// A client with no secret: a signed assertion or a platform's token.
    Secretless {
        client: TokenServiceClient<Channel>,
        credentials: Secretless,
    },
    /// The secret and a fresh DPoP proof each time.
    Dpop {
        client: TokenServiceClient<Channel>,
        prover: DpopProver,
    },
}

/// Why a call failed, in a few words: a gRPC code, an HTTP status, or the
/// innermost cause of a transport error.
type Cause = String;

fn grpc_cause(status: tonic::Status) -> Cause {
    format!("gRPC {:?}", status.code())
}

fn transport_cause(err: &(dyn std::error::Error + 'static)) -> Cause {
    let mut innermost = err;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost.to_string()
}

impl Caller {
    async fn call(&mut self, server: &Server) -> Result<(), Cause> {
        match self {
            Caller::Grpc { client, secret, introspect: None } => {
                client.issue_token(server.issue_request(secret)).await.map(drop).map_err(grpc_cause)
            }
            Caller::Grpc { client, secret, introspect: Some(token) } => {
                let mut request = Request::new(pb::IntrospectRequest {
                    token: token.clone(),
                    ..pb::IntrospectRequest::default()
                });
                let basic = STANDARD.encode(format!("{}:{}", server.client_id, secret));
                request
                    .metadata_mut()
                    .insert("authorization", format!("Basic {basic}").parse().expect("ASCII"));
                match client.introspect(request).await.map_err(grpc_cause)?.into_inner().active {
                    true => Ok(()),
                    false => Err("inactive".into()),
                }
            }
            Caller::Certificate { client, request } => {
                client.issue_token(request.clone()).await.map(drop).map_err(grpc_cause)
            }
            Caller::Secretless { client, credentials } => {
                client.issue_token(credentials.request()).await.map(drop).map_err(grpc_cause)
            }
            Caller::Dpop { client, prover } => {
                let request = prover.request(server.issue_request(&server.client_secret));
                let issued = client.issue_token(request).await.map_err(grpc_cause)?.into_inner();
                match issued.token_type.as_str() {
                    "DPoP" => Ok(()),
                    other => Err(format!("token_type {other}")),
                }
            }
            Caller::Http { client, url, headers, body } => {
                let sent = client.post(url.as_str()).headers(headers.clone()).body(body.clone()).send().await;
                let response = sent.map_err(|err| transport_cause(&err))?;
                match response.status().is_success() {
                    true => Ok(()),
                    false => Err(format!("HTTP {}", response.status().as_u16())),
                }
            }
        }
    }
}

pub async fn drive(server: &Server, run: Run) -> Result<Report, Box<dyn std::error::Error>> {
    if run.scenario == Scenario::GrpcColdBurst {
        return crate::cold::bursts(server, &run).await;
    }
    let callers = callers(server, &run).await?;
    let start = Instant::now();
    let measure_from = start + run.warmup;
    let deadline = measure_from + run.duration;
    let flood = flood(server, run.flood, run.flood_spread, deadline).await?;
    let mut workers = Vec::with_capacity(callers.len());
    for mut caller in callers {
        let server_client_id = server.client_id.clone();
        let address = server.address.clone();
        let secret = server.client_secret.clone();
        workers.push(tokio::spawn(async move {
            let server = Server::target(&address, server_client_id, secret);
            let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
            let (mut ok, mut errors) = (0u64, BTreeMap::<Cause, u64>::new());
            loop {
                let sent = Instant::now();
                if sent >= deadline {
                    break;
                }
                let outcome = caller.call(&server).await;
                if sent >= measure_from {
                    latency.saturating_record(sent.elapsed().as_micros() as u64);
                    match outcome {
                        Ok(()) => ok += 1,
                        Err(cause) => *errors.entry(cause).or_default() += 1,
                    }
                }
            }
            (latency, ok, errors)
        }));
    }
    let mut report = Report::new(&run, run.duration)?;
    for worker in workers {
        let (latency, ok, errors) = worker.await?;
        report.latency_us.add(latency)?;
        report.ok += ok;
        for (cause, count) in errors {
            report.errors += count;
            *report.error_causes.entry(cause).or_default() += count;
        }
    }
    for worker in flood {
        worker.await?;
    }
    Ok(report)
}

/// Workers that send wrong secrets until `deadline`, each a different one,
/// as an attacker guessing would (identical wrong secrets would share one
/// argon2 check): for the driven client, or in turn for `spread` of the
/// registered fleet clients.
async fn flood(
    server: &Server,
    workers: usize,
    spread: Option<usize>,
    deadline: Instant,
) -> Result<Vec<tokio::task::JoinHandle<()>>, Box<dyn std::error::Error>> {
    let channel = if workers > 0 { Some(server.channel().await?) } else { None };
    Ok((0..workers)
        .map(|_| {
            let mut client = TokenServiceClient::new(channel.clone().expect("a channel when flooding"));
            let mut request = server.issue_request("");
            tokio::spawn(async move {
                for guess in 0u64.. {
                    if Instant::now() >= deadline {
                        break;
                    }
                    // The shape of a real secret (a 16-character id and 43
                    // more), so each guess costs a lookup and an argon2 check
                    // rather than being refused for its shape.
                    request.client_secret = format!("{guess:016}{guess:043}");
                    if let Some(spread) = spread {
                        request.client_id = format!("fleet-{:05}", guess % spread.max(1) as u64);
                    }
                    let _ = client.issue_token(request.clone()).await;
                }
            })
        })
        .collect())
}

async fn callers(server: &Server, run: &Run) -> Result<Vec<Caller>, Box<dyn std::error::Error>> {
    let mut channels = Vec::new();
    for _ in 0..GRPC_CONNECTIONS.min(run.concurrency) {
        match run.scenario {
            Scenario::HttpIssue | Scenario::ConnectIssue => {}
            Scenario::GrpcIssueMtls => channels
                .push(server.certificate_channel().await?.ok_or("the grpc-issue-mtls scenario needs --tls")?),
            _ => channels.push(server.channel().await?),
        }
    }
    let certificate_request =
        pb::IssueTokenRequest { client_id: CERTIFICATE_CLIENT.into(), ..server.issue_request("") };
    let secret = server.client_secret.clone();
    let introspect = match run.scenario {
        Scenario::GrpcIntrospect => Some(
            TokenServiceClient::new(channels[0].clone())
                .issue_token(server.issue_request(&server.client_secret))
                .await?
                .into_inner()
                .access_token,
        ),
        _ => None,
    };
    let secretless = match run.scenario {
        Scenario::GrpcIssueKeyJwt => Some(Secretless::key_jwt(server).await?),
        Scenario::GrpcIssueFederated => Some(Secretless::federated(server).await?),
        _ => None,
    };
    let prover = match run.scenario {
        Scenario::GrpcIssueDpop => Some(DpopProver::new(&server.base_url())?),
        _ => None,
    };
    let http = server.http_client(run.concurrency)?;
    let authorization =
        format!("Basic {}", STANDARD.encode(format!("{}:{}", server.client_id, server.client_secret)));
    let form_headers = reqwest::header::HeaderMap::from_iter([
        (reqwest::header::AUTHORIZATION, authorization.parse()?),
        (reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded".parse()?),
    ]);
    let connect_headers =
        reqwest::header::HeaderMap::from_iter([(reqwest::header::CONTENT_TYPE, "application/json".parse()?)]);
    let connect_body = Bytes::from(
        json!({
            "grantType": "client_credentials", "clientId": server.client_id, "clientSecret": server.client_secret,
        })
        .to_string(),
    );
    Ok((0..run.concurrency)
        .map(|i| match run.scenario {
            Scenario::HttpIssue => Caller::Http {
                client: http.clone(),
                url: format!("{}{}", server.base_url(), run.http_token_path),
                headers: form_headers.clone(),
                body: Bytes::from_static(b"grant_type=client_credentials"),
            },
            Scenario::ConnectIssue => Caller::Http {
                client: http.clone(),
                url: format!("{}/tokend.v1.TokenService/IssueToken", server.base_url()),
                headers: connect_headers.clone(),
                body: connect_body.clone(),
            },
            Scenario::GrpcIssueMtls => Caller::Certificate {
                client: TokenServiceClient::new(channels[i % channels.len()].clone()),
                request: certificate_request.clone(),
            },
            Scenario::GrpcIssueKeyJwt | Scenario::GrpcIssueFederated => Caller::Secretless {
                client: TokenServiceClient::new(channels[i % channels.len()].clone()),
                credentials: secretless.clone().expect("registered above"),
            },
            Scenario::GrpcIssueDpop => Caller::Dpop {
                client: TokenServiceClient::new(channels[i % channels.len()].clone()),
                prover: prover.clone().expect("made above"),
            },
            _ => Caller::Grpc {
                client: TokenServiceClient::new(channels[i % channels.len()].clone()),
                secret: secret.clone(),
                introspect: introspect.clone(),
            },
        })
        .collect())
}
