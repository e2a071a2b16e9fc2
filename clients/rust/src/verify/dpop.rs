//! DPoP at the resource server (RFC 9449 §7): a DPoP-bound token is accepted
//! only with one fresh proof, signed by the key the token is bound to
//! (`cnf.jkt`), for this call's method and URL and this token (`ath`), used
//! once (remembered per process for the proof's window).

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::digest::{SHA256, digest};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use http::{HeaderMap, Method, Uri, header::HOST};
use jsonwebtoken::jwk::ThumbprintHash;
use reqwest::Url;
use serde_json::Value;
use tokend_common::{
    dpop::{self, SignedProof},
    wire::DPOP_HEADER,
};

use super::VerifyError;

/// How far ahead of this clock a proof's `iat` may be.
const FUTURE_LEEWAY_SECONDS: i64 = 5;
/// Proofs remembered at once; past it, new ones are refused, never old ones forgotten.
const SEEN_CAPACITY: usize = 100_000;

/// Checks proofs for one API.
pub(super) struct DpopChecker {
    /// The API's public URL, when calls arrive with a path-only URI.
    origin: Option<String>,
    max_age: Duration,
    /// Hash of (key, jti) → until when it could be replayed.
    seen: Mutex<HashMap<[u8; 32], i64>>,
}

fn refuse(reason: &'static str) -> VerifyError {
    VerifyError::InvalidDpopProof(reason)
}

impl DpopChecker {
    pub(super) fn new(origin: Option<String>, max_age: Duration) -> Self {
        let origin = origin.map(|origin| origin.trim_end_matches('/').to_owned());
        Self { origin, max_age, seen: Mutex::default() }
    }

    /// Whether the call (`method`, `uri`, `headers`) carries a good proof
    /// for `token`, bound to the key `jkt`.
    pub(super) fn check(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        token: &str,
        jkt: &str,
    ) -> Result<(), VerifyError> {
        let proof = match headers.get_all(DPOP_HEADER).iter().collect::<Vec<_>>().as_slice() {
            [] => return Err(refuse("a DPoP-bound token needs a DPoP proof")),
            [proof] => proof.to_str().map_err(|_| refuse("the DPoP proof is not a JWT"))?.to_owned(),
            _ => return Err(refuse("send one DPoP proof, not several")),
        };
        let SignedProof { jwk, claims } = dpop::open(&proof).map_err(refuse)?;
        if jwk.thumbprint(ThumbprintHash::SHA256).ok().as_deref() != Some(jkt) {
            return Err(refuse("the DPoP proof is signed by another key than the token is bound to"));
        }
        let string = |name: &str| claims.get(name).and_then(Value::as_str);
        if string("htm") != Some(method.as_str()) {
            return Err(refuse("the DPoP proof is for another method"));
        }
        let htu = string("htu").and_then(|htu| Url::parse(htu).ok());
        if !htu.is_some_and(|htu| self.urls(uri, headers).iter().any(|url| dpop::same_resource(&htu, url))) {
            return Err(refuse("the DPoP proof is for another URL"));
        }
        let ath = URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()));
        if string("ath") != Some(ath.as_str()) {
            return Err(refuse("the DPoP proof is for another token (ath)"));
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs() as i64);
        let max_age = self.max_age.as_secs() as i64;
        let iat = claims.get("iat").and_then(Value::as_i64).ok_or(refuse("the DPoP proof has no iat"))?;
        if iat < now - max_age || iat > now + FUTURE_LEEWAY_SECONDS {
            return Err(refuse("the DPoP proof is too old or from the future"));
        }
        let jti = string("jti").filter(|jti| !jti.is_empty()).ok_or(refuse("the DPoP proof has no jti"))?;
        self.first_use(jkt, jti, iat + max_age + FUTURE_LEEWAY_SECONDS + 1, now)
    }

    /// Where the call may have been sent: its URI when absolute; else at the
    /// configured origin; else at its `Host`, over either scheme.
    fn urls(&self, uri: &Uri, headers: &HeaderMap) -> Vec<Url> {
        if uri.scheme().is_some() {
            return Url::parse(&uri.to_string()).into_iter().collect();
        }
        if let Some(origin) = &self.origin {
            return Url::parse(&format!("{origin}{}", uri.path())).into_iter().collect();
        }
        let Some(host) =
            uri.authority().map(|a| a.as_str()).or(headers.get(HOST).and_then(|h| h.to_str().ok()))
        else {
            return Vec::new();
        };
        ["https", "http"]
            .iter()
            .filter_map(|scheme| Url::parse(&format!("{scheme}://{host}{}", uri.path())).ok())
            .collect()
    }

    fn first_use(&self, jkt: &str, jti: &str, until: i64, now: i64) -> Result<(), VerifyError> {
        let mut key = [0u8; 32];
        key.copy_from_slice(digest(&SHA256, format!("{jkt}.{jti}").as_bytes()).as_ref());
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.get(&key).is_some_and(|seen_until| now < *seen_until) {
            return Err(refuse("the DPoP proof was used before"));
        }
        if seen.len() >= SEEN_CAPACITY {
            seen.retain(|_, seen_until| now < *seen_until);
            if seen.len() >= SEEN_CAPACITY {
                return Err(VerifyError::Unavailable("too many DPoP proofs at once".into()));
            }
        }
        seen.insert(key, until);
        Ok(())
    }
}
