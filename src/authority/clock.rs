//! The one clock the authority reads, in the unit tokens and the store use:
//! Unix seconds. Tests move it forward instead of sleeping.

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
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
}
