//! Per-client rate limits on token requests: a token bucket per client in
//! each instance, holding the instance's share of the client's limit (the
//! limit divided by the instances alive), so the fleet as a whole allows the
//! limit when its load is spread evenly. Clients without a limit never come
//! here; no request writes to the store.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use crate::{authority::fleet::Fleet, domain::RateLimit};

/// One client's bucket: how many requests it may make now, as of `at`.
struct Bucket {
    tokens: f64,
    at: Instant,
    limit: RateLimit,
    /// How many instances shared the limit when the bucket was filled.
    shared_by: u32,
    /// This instance's share: the rate divided, the burst too (at least one
    /// request), worked out once per fill rather than per request.
    rate: f64,
    burst: f64,
}

impl Bucket {
    fn full(limit: RateLimit, shared_by: u32, now: Instant) -> Self {
        let burst = (f64::from(limit.burst) / f64::from(shared_by)).max(1.0);
        let rate = f64::from(limit.per_second) / f64::from(shared_by);
        Self { tokens: burst, at: now, limit, shared_by, rate, burst }
    }
}

/// The buckets of the clients that have a limit and asked since start.
pub struct RateLimits {
    buckets: Mutex<HashMap<String, Bucket>>,
    fleet: Arc<Fleet>,
}

/// Buckets of an instance that serves alone: each holds the whole limit.
impl Default for RateLimits {
    fn default() -> Self {
        Self::new(Arc::new(Fleet::new(String::new())))
    }
}

impl RateLimits {
    /// Buckets that hold this instance's share of each limit in `fleet`.
    pub fn new(fleet: Arc<Fleet>) -> Self {
        Self { buckets: Mutex::default(), fleet }
    }

    /// Takes one request from `client_id`'s bucket at `now`, or says how long
    /// until one is there. A changed limit, or a fleet that grew or shrank,
    /// starts a full bucket of the new share.
    pub fn take(&self, client_id: &str, limit: RateLimit, now: Instant) -> Result<(), Duration> {
        let shared_by = self.fleet.size();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket =
            buckets.entry(client_id.to_owned()).or_insert_with(|| Bucket::full(limit, shared_by, now));
        if bucket.limit != limit || bucket.shared_by != shared_by {
            *bucket = Bucket::full(limit, shared_by, now);
        }
        let refilled = now.saturating_duration_since(bucket.at).as_secs_f64() * bucket.rate;
        bucket.tokens = (bucket.tokens + refilled).min(bucket.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - bucket.tokens) / bucket.rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::Clock;

    #[test]
    fn a_burst_passes_then_the_rate_applies() {
        let limits = RateLimits::default();
        let limit = RateLimit { per_second: 2, burst: 3 };
        let start = Clock::system().instant();
        for _ in 0..3 {
            limits.take("svc", limit, start).unwrap();
        }
        let wait = limits.take("svc", limit, start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        limits.take("svc", limit, start + Duration::from_millis(500)).unwrap();
        assert!(limits.take("svc", limit, start + Duration::from_millis(500)).is_err());
        assert!(limits.take("other", limit, start).is_ok(), "each client has its own bucket");
    }

    #[test]
    fn a_changed_limit_starts_afresh() {
        let limits = RateLimits::default();
        let start = Clock::system().instant();
        limits.take("svc", RateLimit { per_second: 1, burst: 1 }, start).unwrap();
        assert!(limits.take("svc", RateLimit { per_second: 1, burst: 1 }, start).is_err());
        assert!(limits.take("svc", RateLimit { per_second: 10, burst: 10 }, start).is_ok());
    }
}
