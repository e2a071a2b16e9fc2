//! Reading a feed of timestamped records that every instance writes (the
//! revocations, the client changes): where this instance is in it.

use std::sync::atomic::{AtomicI64, Ordering};

/// Looks this far back past the last read, so a record stamped by an instance
/// whose clock runs a little behind is not missed.
pub const CLOCK_SLACK_SECONDS: i64 = 30;

/// When this instance last read a feed.
pub struct FeedCursor {
    read_at: AtomicI64,
}

impl FeedCursor {
    /// Starts at `now`: what came before is known already (loaded or not cached).
    pub fn new(now: i64) -> Self {
        Self { read_at: AtomicI64::new(now) }
    }

    /// Where the next read starts: the last read, less the clock slack.
    pub fn since(&self) -> i64 {
        self.read_at.load(Ordering::Relaxed) - CLOCK_SLACK_SECONDS
    }

    /// Records a read done at `now`.
    pub fn read_at(&self, now: i64) {
        self.read_at.store(now, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_look_back_by_the_slack() {
        let cursor = FeedCursor::new(1000);
        assert_eq!(cursor.since(), 1000 - CLOCK_SLACK_SECONDS);
        cursor.read_at(2000);
        assert_eq!(cursor.since(), 2000 - CLOCK_SLACK_SECONDS);
    }
}
