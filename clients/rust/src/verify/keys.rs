//! The issuer's public keys: found by discovery, cached, and fetched again when
//! they grow old or a token names a key not seen yet (at most once per interval).

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{JwkSet, PublicKeyUse},
};
use serde::Deserialize;

use super::VerifyError;

const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// A published key that checks signatures, with the one algorithm it was published for.
pub(crate) struct VerifyingKey {
    pub algorithm: Algorithm,
    pub decoding: DecodingKey,
}

struct KeySet {
    keys: HashMap<String, Arc<VerifyingKey>>,
    fetched: Instant,
}

pub(crate) struct KeyCache {
    http: reqwest::Client,
    jwks_uri: String,
    current: RwLock<Arc<KeySet>>,
    /// When keys were last asked for; held while asking, so callers that miss
    /// together wait for one fetch.
    last_fetch: tokio::sync::Mutex<Instant>,
    refetch_interval: Duration,
    max_age: Duration,
}

/// The parts of RFC 8414 metadata a verifier needs.
#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
}

impl KeyCache {
    /// Reads the issuer's metadata, checks it names the same issuer (RFC 8414
    /// §3.3) and fetches the keys it points to.
    /// Fetches with `http`, or a client of its own without one.
    pub async fn discover(
        issuer: &str,
        http: Option<reqwest::Client>,
        refetch_interval: Duration,
        max_age: Duration,
    ) -> Result<Self, VerifyError> {
        let http = match http {
            Some(http) => http,
            None => {
                reqwest::Client::builder().build().map_err(|err| VerifyError::Unavailable(err.to_string()))?
            }
        };
        let metadata: Metadata = get_json(&http, &metadata_url(issuer)?).await?;
        if metadata.issuer != issuer {
            return Err(VerifyError::Unavailable(format!(
                "the metadata names issuer {:?}, not {issuer:?}",
                metadata.issuer
            )));
        }
        let keys = fetch_keys(&http, &metadata.jwks_uri).await?;
        let current = RwLock::new(Arc::new(KeySet { keys, fetched: Instant::now() }));
        Ok(Self {
            http,
            jwks_uri: metadata.jwks_uri,
            current,
            last_fetch: tokio::sync::Mutex::new(Instant::now()),
            refetch_interval,
            max_age,
        })
    }

    /// The key named `kid`, fetching the keys again if it is unknown or the
    /// keys are old and the last fetch is at least an interval ago. Known keys
    /// keep verifying while the issuer cannot be reached.
    pub async fn key(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        if let Some(key) = self.fresh_key(kid) {
            return Some(key);
        }
        let mut last_fetch = self.last_fetch.lock().await;
        // Whoever held the lock before may just have fetched it.
        if let Some(key) = self.fresh_key(kid) {
            return Some(key);
        }
        if last_fetch.elapsed() >= self.refetch_interval {
            *last_fetch = Instant::now();
            if let Ok(keys) = fetch_keys(&self.http, &self.jwks_uri).await {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) =
                    Arc::new(KeySet { keys, fetched: Instant::now() });
            }
        }
        self.known().keys.get(kid).cloned()
    }

    /// The HTTP client keys are fetched with, for the other fetches of this verifier.
    pub fn http(&self) -> reqwest::Client {
        self.http.clone()
    }

    fn fresh_key(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        let known = self.known();
        (known.fetched.elapsed() < self.max_age).then(|| known.keys.get(kid).cloned()).flatten()
    }

    fn known(&self) -> Arc<KeySet> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Where RFC 8414 puts the metadata of `issuer`: the well-known segment goes
/// between the host and any path the issuer has.
fn metadata_url(issuer: &str) -> Result<String, VerifyError> {
    let url = reqwest::Url::parse(issuer)
        .map_err(|err| VerifyError::Unavailable(format!("issuer {issuer:?} is not a URL: {err}")))?;
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    Ok(format!("{origin}/.well-known/oauth-authorization-server{path}"))
}

/// Every signing key with a `kid` and an algorithm this crate supports.
async fn fetch_keys(
    http: &reqwest::Client,
    jwks_uri: &str,
) -> Result<HashMap<String, Arc<VerifyingKey>>, VerifyError> {
    let set: JwkSet = get_json(http, jwks_uri).await?;
    Ok(set
        .keys
        .into_iter()
        .filter(|jwk| jwk.common.public_key_use != Some(PublicKeyUse::Encryption))
        .filter_map(|jwk| {
            let algorithm = Algorithm::try_from(jwk.common.key_algorithm?).ok()?;
            let decoding = DecodingKey::from_jwk(&jwk).ok()?;
            Some((jwk.common.key_id?, Arc::new(VerifyingKey { algorithm, decoding })))
        })
        .collect())
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, VerifyError> {
    get(http, url, "application/json").await?.json().await.map_err(|err| unavailable(url, err))
}

/// A successful answer to `GET url` asking for `media_type`, within the fetch timeout.
pub(super) async fn get(
    http: &reqwest::Client,
    url: &str,
    media_type: &'static str,
) -> Result<reqwest::Response, VerifyError> {
    http.get(url)
        .header(http::header::ACCEPT, media_type)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .and_then(|response| response.error_for_status())
        .map_err(|err| unavailable(url, err))
}

pub(super) fn unavailable(url: &str, err: reqwest::Error) -> VerifyError {
    VerifyError::Unavailable(format!("GET {url}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_well_known_segment_goes_before_the_issuers_path() {
        assert_eq!(
            metadata_url("http://tokend:50051").unwrap(),
            "http://tokend:50051/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            metadata_url("https://auth.example/tenant1").unwrap(),
            "https://auth.example/.well-known/oauth-authorization-server/tenant1"
        );
        assert!(metadata_url("not a url").is_err());
    }
}
