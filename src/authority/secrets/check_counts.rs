//! How secret checks ended, counted for metrics: a few atomic adds, no lock.

use std::sync::atomic::{AtomicU64, Ordering};

/// How one credential check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckResult {
    /// Recognised from memory: verified by argon2 in the last minute.
    CacheHit,
    /// argon2 ran and the secret matched.
    Argon2Ok,
    /// argon2 ran and the secret did not match.
    Argon2Failed,
    /// Waited for another caller's check of the same credentials.
    Shared,
    /// Refused unchecked: the queue, the client's or address's share, or throttling.
    Busy,
    /// Refused unchecked: not the shape of any secret tokend issues.
    Malformed,
    /// Refused without argon2: no live secret of an active client by that id and secret id.
    Unknown,
}

impl CheckResult {
    pub const ALL: [CheckResult; 7] = [
        Self::CacheHit,
        Self::Argon2Ok,
        Self::Argon2Failed,
        Self::Shared,
        Self::Busy,
        Self::Malformed,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CacheHit => "cache_hit",
            Self::Argon2Ok => "argon2_ok",
            Self::Argon2Failed => "argon2_failed",
            Self::Shared => "shared",
            Self::Busy => "busy",
            Self::Malformed => "malformed",
            Self::Unknown => "unknown",
        }
    }
}

/// One counter per [`CheckResult`].
#[derive(Debug, Default)]
pub struct CheckCounts([AtomicU64; CheckResult::ALL.len()]);

impl CheckCounts {
    pub fn record(&self, result: CheckResult) {
        self.0[result as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Vec<(CheckResult, u64)> {
        CheckResult::ALL
            .iter()
            .map(|result| (*result, self.0[*result as usize].load(Ordering::Relaxed)))
            .collect()
    }
}
