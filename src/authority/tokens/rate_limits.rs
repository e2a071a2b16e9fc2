//! Per-client rate limits on token requests: a token bucket per client in
//! this instance. Clients without a limit never come here.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use crate::domain::RateLimit;

/// One client's bucket: how many requests it may make now, as of `at`.
struct Bucket {
    tokens: f64,
    at: Instant,
    limit: RateLimit,
}

/// The buckets of the clients that have a limit and asked since start.
#[derive(Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimits {
    /// Takes one request from `client_id`'s bucket at `now`, or says how long
    /// until one is there. A changed limit starts a full bucket.
    pub fn take(&self, client_id: &str, limit: RateLimit, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let full = || Bucket { tokens: f64::from(limit.burst), at: now, limit };
        let bucket = buckets.entry(client_id.to_owned()).or_insert_with(full);
        if bucket.limit != limit {
            *bucket = full();
        }
        let rate = f64::from(limit.per_second);
        let refilled = now.saturating_duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refilled).min(f64::from(limit.burst));
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
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
