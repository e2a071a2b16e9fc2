//! The one clock the authority reads, in the unit tokens and the store use:
//! Unix seconds, and a monotonic instant for sub-second intervals (rate
//! limits, refetch gaps). Tests move it forward instead of sleeping.

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

/// The system's time, plus however far it has been moved on; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    moved_on: Arc<AtomicI64>,
}

impl Clock {
    /// The system's clock, not moved on.
    pub fn system() -> Self {
        Self::default()
    }

    /// Now, in whole Unix seconds (rounded down).
    pub fn now(&self) -> i64 {
        let system = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        system + self.moved_on.load(Ordering::Relaxed)
    }

    /// Now, in Unix milliseconds: the order of audit events within a second.
    pub fn now_millis(&self) -> i64 {
        let system = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        system + self.moved_on.load(Ordering::Relaxed) * 1000
    }

    /// Now, as a monotonic instant moved on with the clock: for intervals
    /// shorter than a second, which Unix seconds cannot measure.
    pub fn instant(&self) -> Instant {
        let moved_on = u64::try_from(self.moved_on.load(Ordering::Relaxed)).unwrap_or(0);
        Instant::now() + Duration::from_secs(moved_on)
    }

    /// Moves this clock, and every clone of it, `seconds` forward: how tests
    /// let tokens expire without waiting.
    pub fn advance(&self, seconds: i64) {
        self.moved_on.fetch_add(seconds, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_move_together() {
        let clock = Clock::system();
        let other = clock.clone();
        let before = other.now();
        clock.advance(3600);
        assert!(other.now() >= before + 3600);
    }

    #[test]
    fn instants_move_with_the_clock() {
        let clock = Clock::system();
        let before = clock.instant();
        clock.advance(10);
        assert!(clock.instant().duration_since(before) >= Duration::from_secs(10));
    }
}
