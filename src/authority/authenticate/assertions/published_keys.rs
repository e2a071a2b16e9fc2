//! Keys published at a URL (a client's `jwks_uri`, a trusted issuer's
//! `jwks_uri` or OIDC discovery document), fetched when first needed and
//! kept as long as their `Cache-Control` allows within bounds. A URL is
//! fetched at most once per [`REFETCH_INTERVAL`], whatever asks (keys gone
//! stale, a `kid` not yet seen), by one request while others wait for it;
//! when a fetch fails the keys fetched before stay in use. Each URL waits
//! on its own, so a publisher that hangs delays only its own clients.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use serde::Deserialize;

use super::fetch::{FetchError, Fetcher};
use super::outbound::Reach;
use crate::authority::Clock;
use crate::domain::{Jwks, JwksUri};

/// Keys are kept at least this long, whatever their publisher says…
const MIN_FRESH: Duration = Duration::from_secs(60);
/// …at most this long…
const MAX_FRESH: Duration = Duration::from_secs(24 * 3600);
/// …and this long when it says nothing.
const DEFAULT_FRESH: Duration = Duration::from_secs(300);
/// The least time between two fetches of one URL.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// Where a set of keys is published.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyLocation {
    /// A JWK Set at this URL, given by whom `Reach` says.
    Jwks(JwksUri, Reach),
    /// The `jwks_uri` named by the OIDC discovery document of this issuer
    /// (an administrator's trusted issuer).
    Discovery(JwksUri),
}

/// Published keys, by where they are published.
pub struct PublishedKeys {
    fetcher: Fetcher,
    clock: Clock,
    sources: Mutex<HashMap<KeyLocation, Arc<Source>>>,
}

/// One location's keys and the lock its fetches take turns on.
#[derive(Default)]
struct Source {
    state: Mutex<SourceState>,
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct SourceState {
    keys: Option<Arc<Jwks>>,
    fresh_until: Option<Instant>,
    last_attempt: Option<Instant>,
}

impl SourceState {
    /// Whether a fetch may start now.
    fn may_fetch(&self, now: Instant) -> bool {
        self.last_attempt.is_none_or(|at| now.duration_since(at) >= REFETCH_INTERVAL)
    }
}

impl PublishedKeys {
    pub fn new(fetcher: Fetcher, clock: Clock) -> Self {
        Self { fetcher, clock, sources: Mutex::default() }
    }

    /// The keys at `location`, fetched if none are held or they have gone
    /// stale, or if `kid` names a key not among them; `None` when none could
    /// ever be fetched.
    pub async fn keys(&self, location: &KeyLocation, kid: Option<&str>) -> Option<Arc<Jwks>> {
        let source = self.source(location);
        let wanted = |state: &SourceState, now: Instant| {
            let stale = state.fresh_until.is_none_or(|until| now >= until);
            let missing_kid =
                kid.is_some_and(|kid| state.keys.as_ref().is_none_or(|keys| !keys.has_kid(kid)));
            (stale || missing_kid) && state.may_fetch(now)
        };
        {
            let state = source.state.lock().unwrap_or_else(PoisonError::into_inner);
            if !wanted(&state, self.clock.instant()) {
                return state.keys.clone();
            }
        }
        let _turn = source.fetching.lock().await;
        let now = self.clock.instant();
        // Whoever held the turn before may have fetched what is wanted.
        if !wanted(&source.state.lock().unwrap_or_else(PoisonError::into_inner), now) {
            return source.state.lock().unwrap_or_else(PoisonError::into_inner).keys.clone();
        }
        let fetched = self.fetch(location).await;
        let mut state = source.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.last_attempt = Some(now);
        match fetched {
            Ok((keys, fresh_for)) => {
                state.keys = Some(Arc::new(keys));
                state.fresh_until = Some(now + fresh_for.clamp(MIN_FRESH, MAX_FRESH));
            }
            Err(why) => {
                tracing::warn!(location = %location, error = %why, "could not fetch published keys; keeping those fetched before, if any");
            }
        }
        state.keys.clone()
    }

    fn source(&self, location: &KeyLocation) -> Arc<Source> {
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        sources.entry(location.clone()).or_default().clone()
    }

    /// Fetches the keys at `location` and how long they may be kept.
    async fn fetch(&self, location: &KeyLocation) -> Result<(Jwks, Duration), String> {
        let (jwks_uri, reach) = match location {
            KeyLocation::Jwks(uri, reach) => (uri.clone(), *reach),
            KeyLocation::Discovery(issuer) => (self.discover(issuer).await?, Reach::Operator),
        };
        let fetched = self.fetcher.get(&jwks_uri, reach).await.map_err(|err| describe(&jwks_uri, err))?;
        let keys = Jwks::parse_published(&fetched.body).map_err(|err| format!("{jwks_uri}: {err}"))?;
        Ok((keys, fetched.max_age.unwrap_or(DEFAULT_FRESH)))
    }

    /// The `jwks_uri` of `issuer`'s OIDC discovery document, which must name
    /// the same issuer (OpenID Connect Discovery §4.3).
    async fn discover(&self, issuer: &JwksUri) -> Result<JwksUri, String> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let issuer_text = issuer.as_str().trim_end_matches('/');
        let address = format!("{issuer_text}/.well-known/openid-configuration");
        let address = JwksUri::parse("discovery document", &address).map_err(|err| err.0)?;
        let fetched =
            self.fetcher.get(&address, Reach::Operator).await.map_err(|err| describe(&address, err))?;
        let document: Discovery = serde_json::from_str(&fetched.body)
            .map_err(|err| format!("{address} is not a discovery document: {err}"))?;
        if document.issuer.trim_end_matches('/') != issuer_text {
            return Err(format!("{address} names issuer {:?}, not {issuer_text:?}", document.issuer));
        }
        JwksUri::parse("jwks_uri", &document.jwks_uri).map_err(|err| err.0)
    }
}

fn describe(uri: &JwksUri, err: FetchError) -> String {
    format!("{uri}: {err}")
}

impl std::fmt::Display for KeyLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyLocation::Jwks(uri, _) => write!(f, "{uri}"),
            KeyLocation::Discovery(issuer) => write!(f, "discovery of {issuer}"),
        }
    }
}
