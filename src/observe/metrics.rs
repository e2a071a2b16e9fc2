//! Prometheus metrics (OpenMetrics text at `GET /metrics`). Counters and
//! histograms are recorded where requests are answered, an atomic add each;
//! what the authority knows of itself (credential checks, the argon2 queue,
//! key ages, clients, store failures) is read when scraped. Labels carry
//! only bounded values: operation and outcome names, OAuth error codes, and
//! the ids of clients that authenticated, never anything else a caller sent.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError, RwLock},
    time::Instant,
};

use super::access_log;
use axum::{
    Extension,
    extract::{MatchedPath, Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric},
    metrics::{
        MetricType,
        counter::{ConstCounter, Counter},
        family::Family,
        gauge::{ConstGauge, Gauge},
        histogram::Histogram,
    },
    registry::Registry,
};

use crate::authority::{Authority, ThrottleCounts, Vitals};

/// Which protocol a token request came in: gRPC, the OAuth endpoint, a
/// Connect call (answered by the gRPC services in process, which find this
/// in the request's extensions), or the TokenIDP dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Grpc,
    Http,
    Connect,
    TokenIdp,
}

impl Protocol {
    fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::Http => "http",
            Protocol::Connect => "connect",
            Protocol::TokenIdp => "token_idp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Issued {
    client_id: String,
    protocol: &'static str,
    /// `access_token`, or `txn_token` for a Transaction Token.
    token_type: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Failed {
    reason: &'static str,
    protocol: &'static str,
}

/// Static strings only, so timing a call allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Call {
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Active {
    active: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Version {
    version: &'static str,
}

/// Request latency buckets, in seconds: 0.25 ms to about 4 s.
fn latency_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.000_25, 2.0, 15)
}

/// Every metric tokend exports.
pub struct Metrics {
    registry: Registry,
    issued: Family<Issued, Counter>,
    failed: Family<Failed, Counter>,
    durations: Family<Call, Histogram>,
    introspections: Family<Active, Counter>,
    registrations: Family<Call, Counter>,
    vitals: Arc<Sampled>,
    /// Every served gRPC method's path, and its name.
    grpc_methods: HashMap<String, &'static str>,
    /// The HTTP routes seen so far, as labels: the router's own templates,
    /// never a caller's path, so a few dozen at most.
    http_routes: RwLock<HashMap<String, &'static str>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tokend");
        let issued = Family::<Issued, Counter>::default();
        registry.register(
            "tokens_issued",
            "Tokens issued, by client, protocol and token type",
            issued.clone(),
        );
        let failed = Family::<Failed, Counter>::default();
        registry.register(
            "token_requests_failed",
            "Token requests refused, by OAuth error code and protocol",
            failed.clone(),
        );
        let durations = Family::<Call, Histogram>::new_with_constructor(|| Histogram::new(latency_buckets()));
        registry.register(
            "request_duration_seconds",
            "Time to answer a call, by operation (gRPC method or HTTP path) and outcome (gRPC code or HTTP status)",
            durations.clone(),
        );
        let introspections = Family::<Active, Counter>::default();
        registry.register(
            "introspections",
            "Introspections answered, by whether the token was active",
            introspections.clone(),
        );
        let registrations = Family::<Call, Counter>::default();
        registry.register(
            "registrations",
            "Dynamic registration requests (RFC 7591, RFC 7592), by operation and outcome (ok or the OAuth error code)",
            registrations.clone(),
        );
        let build = Family::<Version, Gauge>::default();
        build.get_or_create(&Version { version: env!("CARGO_PKG_VERSION") }).set(1);
        registry.register("build_info", "The running build", build);
        let vitals = Arc::new(Sampled::default());
        registry.register_collector(Box::new(vitals.clone()));
        Self {
            registry,
            issued,
            failed,
            durations,
            introspections,
            registrations,
            vitals,
            grpc_methods: grpc_methods(),
            http_routes: RwLock::default(),
        }
    }

    /// The one place a token request's outcome is counted: a token of the
    /// kind named issued to the client named, or failed with the OAuth error
    /// code named.
    pub fn token_request(&self, outcome: Result<(&str, &'static str), &'static str>, protocol: Protocol) {
        let protocol = protocol.as_str();
        match outcome {
            Ok((client_id, token_type)) => {
                self.issued
                    .get_or_create(&Issued { client_id: client_id.to_owned(), protocol, token_type })
                    .inc();
            }
            Err(reason) => {
                self.failed.get_or_create(&Failed { reason, protocol }).inc();
            }
        }
    }

    /// A dynamic registration request (`register`, `read`, `update`,
    /// `delete`) answered, or refused with an OAuth error code.
    pub fn registration(&self, operation: &'static str, outcome: Result<(), &'static str>) {
        let outcome = outcome.err().unwrap_or("ok");
        self.registrations.get_or_create(&Call { operation, outcome }).inc();
    }

    pub fn introspected(&self, active: bool) {
        let active = if active { "true" } else { "false" };
        self.introspections.get_or_create(&Active { active }).inc();
    }

    fn observe(&self, operation: &'static str, outcome: &'static str, started: Instant) {
        let labels = Call { operation, outcome };
        self.durations.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    }

    /// Counts, as `tokend_forwarded_certificates_ignored_total`, the requests
    /// that carried a forwarded client certificate from a peer that is not a
    /// trusted proxy (RFC 9440), as `ignored` reads them when scraped.
    pub fn count_ignored_forwarded(&mut self, ignored: impl Fn() -> u64 + Send + Sync + 'static) {
        self.registry.register_collector(Box::new(ReadCounter {
            name: "forwarded_certificates_ignored",
            help: "Requests whose Client-Cert was ignored: not from a trusted proxy",
            read: Box::new(ignored),
        }));
    }

    /// The metrics as OpenMetrics text, with `authority`'s state read now.
    pub async fn render(&self, authority: &Authority) -> Result<String, String> {
        let vitals = authority.vitals().await.map_err(|err| err.to_string())?;
        *self.vitals.0.lock().unwrap_or_else(PoisonError::into_inner) = vitals;
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|err| err.to_string())?;
        Ok(text)
    }
}

/// A counter kept elsewhere, read when scraped.
struct ReadCounter {
    name: &'static str,
    help: &'static str,
    read: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl std::fmt::Debug for ReadCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCounter").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Collector for ReadCounter {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counter = ConstCounter::new((self.read)());
        counter.encode(encoder.encode_descriptor(self.name, self.help, None, counter.metric_type())?)
    }
}

/// Reads one of the throttling counts.
type CountOf = fn(&ThrottleCounts) -> u64;

/// The authority's state as last read, encoded when scraped.
#[derive(Debug, Default)]
struct Sampled(Mutex<Vitals>);

impl Collector for Sampled {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let vitals = self.0.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let mut family = encoder.encode_descriptor(
            "credential_checks",
            "Secret checks, by how they ended",
            None,
            MetricType::Counter,
        )?;
        for (result, count) in &vitals.credential_checks {
            ConstCounter::new(*count).encode(family.encode_family(&[("result", result.as_str())])?)?;
        }
        let depth = ConstGauge::new(vitals.argon2_queue_depth as i64);
        depth.encode(encoder.encode_descriptor(
            "argon2_queue_depth",
            "argon2 jobs queued or running",
            None,
            depth.metric_type(),
        )?)?;
        let mut family = encoder.encode_descriptor(
            "signing_key_age_seconds",
            "Age of each published signing key",
            None,
            MetricType::Gauge,
        )?;
        for (kid, age) in &vitals.key_ages {
            ConstGauge::new(*age).encode(family.encode_family(&[("kid", kid.as_str())])?)?;
        }
        let mut family = encoder.encode_descriptor(
            "clients",
            "Clients registered, and of them active",
            None,
            MetricType::Gauge,
        )?;
        for (state, count) in [("registered", vitals.clients_registered), ("active", vitals.clients_active)] {
            ConstGauge::new(count).encode(family.encode_family(&[("state", state)])?)?;
        }
        let instances = ConstGauge::new(i64::from(vitals.fleet_instances));
        instances.encode(encoder.encode_descriptor(
            "fleet_instances",
            "Instances serving on this database, this one included; each client's rate limit is split between them",
            None,
            instances.metric_type(),
        )?)?;
        let mut family = encoder.encode_descriptor(
            "store_errors",
            "Failed database queries on the request path, by store operation",
            None,
            MetricType::Counter,
        )?;
        for (operation, count) in &vitals.store_errors {
            ConstCounter::new(*count).encode(family.encode_family(&[("operation", *operation)])?)?;
        }
        let throttling: [(&str, &str, CountOf); 2] = [
            (
                "throttling_started",
                "Times failed authentications began throttling a client id or address",
                |t| t.started,
            ),
            ("throttling_ended", "Times throttling of a client id or address was lifted", |t| t.ended),
        ];
        for (name, help, value) in throttling {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for counts in &vitals.throttling {
                ConstCounter::new(value(counts)).encode(family.encode_family(&[("kind", counts.kind)])?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "throttled",
            "Client ids and addresses whose cold checks are refused now",
            None,
            MetricType::Gauge,
        )?;
        for counts in &vitals.throttling {
            ConstGauge::new(counts.current as i64).encode(family.encode_family(&[("kind", counts.kind)])?)?;
        }
        if let Some(dropped) = vitals.issuance_lines_dropped {
            let dropped = ConstCounter::new(dropped);
            dropped.encode(encoder.encode_descriptor(
                "audit_issuance_dropped",
                "Issuance log lines dropped because the writer could not keep up",
                None,
                dropped.metric_type(),
            )?)?;
        }
        timestamp_gauge(
            &mut encoder,
            "secret_soonest_expiry_timestamp_seconds",
            "When the first client to run out of live secrets does (Unix time); absent when none will",
            vitals.soonest_secret_expiry,
        )?;
        timestamp_gauge(
            &mut encoder,
            "signing_key_next_rotation_timestamp_seconds",
            "When the next scheduled signing-key rotation is due (Unix time); absent without a schedule",
            vitals.next_key_rotation,
        )
    }
}

/// A gauge of a Unix time, written only when there is one.
fn timestamp_gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    at: Option<i64>,
) -> Result<(), std::fmt::Error> {
    let Some(at) = at else {
        return Ok(());
    };
    let gauge = ConstGauge::new(at);
    gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)
}

/// `GET /metrics`.
pub async fn scrape(
    State(authority): State<Arc<Authority>>,
    Extension(metrics): Extension<Arc<Metrics>>,
) -> Response {
    match metrics.render(&authority).await {
        Ok(text) => ([("content-type", "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
            .into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "could not read the metrics");
            (StatusCode::SERVICE_UNAVAILABLE, "metrics are unavailable while the database does not answer\n")
                .into_response()
        }
    }
}

/// A router serving only `GET /metrics`, for `--metrics-listen`.
pub fn router(authority: Arc<Authority>, metrics: Arc<Metrics>) -> axum::Router {
    axum::Router::new()
        .route(PATH, axum::routing::get(scrape))
        .layer(Extension(metrics))
        .with_state(authority)
}

/// Where metrics are served.
pub const PATH: &str = "/metrics";

/// Times an HTTP call by its route (never the raw path: an unknown path is
/// `unmatched`) and status.
pub async fn time_http(State(metrics): State<Arc<Metrics>>, mut request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|path| path.as_str());
    let operation = metrics.http_operation(route);
    let log = access_log::begin(&mut request);
    let started = Instant::now();
    let response = next.run(request).await;
    let outcome = http_status(response.status());
    metrics.observe(operation, outcome, started);
    let failed = response.status().is_client_error() || response.status().is_server_error();
    log.finish(operation, outcome, failed, started);
    response
}

/// The statuses tokend answers with, as labels; anything else is `other`.
fn http_status(status: StatusCode) -> &'static str {
    const KNOWN: [&str; 18] = [
        "200", "201", "204", "304", "400", "401", "403", "404", "405", "408", "413", "415", "429", "431",
        "500", "501", "503", "504",
    ];
    let code = status.as_str();
    KNOWN.iter().find(|known| **known == code).map_or("other", |known| *known)
}

/// A gRPC code's name, as a label.
fn grpc_code(code: i32) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "Cancelled",
        "Unknown",
        "InvalidArgument",
        "DeadlineExceeded",
        "NotFound",
        "AlreadyExists",
        "PermissionDenied",
        "ResourceExhausted",
        "FailedPrecondition",
        "Aborted",
        "OutOfRange",
        "Unimplemented",
        "Internal",
        "Unavailable",
        "DataLoss",
        "Unauthenticated",
    ];
    usize::try_from(code).ok().and_then(|code| NAMES.get(code)).map_or("Unknown", |name| *name)
}

/// Times (and logs) a gRPC call by its method and code. tonic answers a failed unary
/// call with trailers only, so the code is in the response headers; a
/// successful one has none there.
pub async fn time_grpc(State(metrics): State<Arc<Metrics>>, mut request: Request, next: Next) -> Response {
    let operation = metrics.grpc_operation(request.uri().path());
    let log = access_log::begin(&mut request);
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.headers().get("grpc-status").and_then(|value| value.to_str().ok());
    let code = status.and_then(|code| code.parse().ok()).unwrap_or(0);
    metrics.observe(operation, grpc_code(code), started);
    log.finish(operation, grpc_code(code), code != 0, started);
    response
}

/// The paths of every gRPC method served and their names, from the
/// descriptor sets the build embeds, so a new RPC is timed under its name
/// with no change here. The names live as long as the process (a few dozen).
fn grpc_methods() -> HashMap<String, &'static str> {
    let sets = [crate::contract::pb::FILE_DESCRIPTOR_SET, tonic_health::pb::FILE_DESCRIPTOR_SET];
    let methods = sets.into_iter().flat_map(crate::contract::methods);
    methods.map(|method| (method.path, &*Box::leak(method.name.into_boxed_str()))).collect()
}

impl Metrics {
    /// The method name of a served path; `unknown` for anything else, so a
    /// caller cannot mint label values.
    fn grpc_operation(&self, path: &str) -> &'static str {
        if path.starts_with("/grpc.reflection.") && path.ends_with("/ServerReflectionInfo") {
            return "ServerReflectionInfo";
        }
        self.grpc_method(path).unwrap_or("unknown")
    }

    /// The method name of a served path.
    fn grpc_method(&self, path: &str) -> Option<&'static str> {
        self.grpc_methods.get(path).copied()
    }

    /// The label of an HTTP call that matched `route`: a contract method
    /// called over Connect under its name, any other route as its template,
    /// and no route as `unmatched`.
    fn http_operation(&self, route: Option<&str>) -> &'static str {
        let Some(route) = route else { return "unmatched" };
        if let Some(method) = self.grpc_method(route) {
            return method;
        }
        if let Some(label) = self.http_routes.read().unwrap_or_else(PoisonError::into_inner).get(route) {
            return label;
        }
        let mut routes = self.http_routes.write().unwrap_or_else(PoisonError::into_inner);
        routes.entry(route.to_owned()).or_insert_with(|| Box::leak(route.to_owned().into_boxed_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_tokend_answers_with_is_its_own_label() {
        for (status, label) in [(201, "201"), (304, "304"), (431, "431"), (501, "501"), (418, "other")] {
            assert_eq!(http_status(StatusCode::from_u16(status).unwrap()), label);
        }
    }

    #[test]
    fn only_served_methods_are_named() {
        let metrics = Metrics::new();
        assert_eq!(metrics.grpc_operation("/tokend.v1.TokenService/IssueToken"), "IssueToken");
        assert_eq!(
            metrics.grpc_operation("/tokend.v1.ClientAdmin/CreateTrustedIssuer"),
            "CreateTrustedIssuer"
        );
        assert_eq!(metrics.grpc_operation("/grpc.health.v1.Health/Check"), "Check");
        assert_eq!(metrics.grpc_operation("/tokend.v1.TokenService/anything-you-like"), "unknown");
        assert_eq!(metrics.grpc_operation("/evil.Service/IssueToken"), "unknown");
    }
}
