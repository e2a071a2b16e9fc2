//! Fetching published keys over HTTP: one client for every `jwks_uri` and
//! discovery document an administrator configured and one for those a
//! registrant gave, each kept to the addresses [`OutboundPolicy`] lets it
//! reach, with a timeout, a size limit, redirects only within the same
//! origin, and the public web's CA roots plus any the operator adds.

use std::{sync::Arc, time::Duration};

use reqwest::{header, redirect};
use rustls::{RootCertStore, pki_types::CertificateDer};

use super::outbound::{Guarded, OutboundPolicy, Reach};
use crate::domain::{JwksUri, MAX_JWKS_BYTES};

/// How long one fetch may take, connection and body included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How many redirects (within the same origin) a fetch follows.
const MAX_REDIRECTS: usize = 3;

/// A fetched document and how long it may be kept, from its `Cache-Control`.
pub struct Fetched {
    pub body: String,
    pub max_age: Option<Duration>,
}

/// Why a fetch failed, for the log.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("answered HTTP {0}")]
    Status(reqwest::StatusCode),
    #[error("the document is over {} KiB", MAX_JWKS_BYTES / 1024)]
    TooLarge,
    #[error("the document is not UTF-8")]
    NotText,
    #[error("{0}")]
    Refused(String),
}

/// The HTTP clients keys are fetched with, one for each [`Reach`].
#[derive(Clone)]
pub struct Fetcher {
    operator: reqwest::Client,
    registrant: reqwest::Client,
    policy: Arc<OutboundPolicy>,
}

impl Fetcher {
    /// Trusts the public web's roots and `extra_roots` (for issuers behind
    /// a private CA, such as a Kubernetes API server).
    pub fn new(extra_roots: &[CertificateDer<'static>], policy: OutboundPolicy) -> Result<Self, String> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for root in extra_roots {
            roots.add(root.clone()).map_err(|err| format!("an extra CA certificate is unusable: {err}"))?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| err.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let policy = Arc::new(policy);
        let client = |reach| {
            reqwest::Client::builder()
                .use_preconfigured_tls(tls.clone())
                .dns_resolver(Arc::new(Guarded { policy: policy.clone(), reach }))
                .timeout(FETCH_TIMEOUT)
                .connect_timeout(FETCH_TIMEOUT)
                .redirect(same_origin_redirects())
                .no_proxy()
                .user_agent(concat!("tokend/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|err| err.to_string())
        };
        Ok(Self { operator: client(Reach::Operator)?, registrant: client(Reach::Registrant)?, policy })
    }

    /// GETs `uri` for whoever `reach` says gave it, reading at most
    /// [`MAX_JWKS_BYTES`] of its body.
    pub async fn get(&self, uri: &JwksUri, reach: Reach) -> Result<Fetched, FetchError> {
        self.policy.check_literal(reach, uri.url()).map_err(FetchError::Refused)?;
        let http = match reach {
            Reach::Operator => &self.operator,
            Reach::Registrant => &self.registrant,
        };
        let mut response = http
            .get(uri.url().clone())
            .header(header::ACCEPT, "application/json, application/jwk-set+json")
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        if response.content_length().is_some_and(|length| length > MAX_JWKS_BYTES as u64) {
            return Err(FetchError::TooLarge);
        }
        let max_age =
            response.headers().get(header::CACHE_CONTROL).and_then(|value| max_age(value.to_str().ok()?));
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let body = String::from_utf8(body).map_err(|_| FetchError::NotText)?;
        Ok(Fetched { body, max_age })
    }
}

/// Follows a redirect only to the same scheme, host and port.
fn same_origin_redirects() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().and_then(|url| JwksUri::parse("redirect", url.as_str()).ok());
        match first {
            _ if attempt.previous().len() > MAX_REDIRECTS => attempt.error("too many redirects"),
            Some(first) if first.same_origin(attempt.url()) => attempt.follow(),
            _ => attempt.error("a redirect to another origin"),
        }
    })
}

/// The `max-age` of a `Cache-Control` value; `no-store` and `no-cache` count as 0.
fn max_age(cache_control: &str) -> Option<Duration> {
    let mut found = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            found = seconds.trim_matches('"').parse().ok().map(Duration::from_secs);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_gives_a_max_age() {
        assert_eq!(max_age("public, max-age=600"), Some(Duration::from_secs(600)));
        assert_eq!(max_age("max-age=60, no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
