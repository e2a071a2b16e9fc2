//! Refused requests' lines, sampled under load: in each minute the first
//! [`LINES_PER_MINUTE`] of a kind (operation and outcome) are written and the
//! rest only counted, then one summary line per kind says how many were left
//! out. A flood of refused requests costs a bounded number of lines; the
//! metrics still count every request.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex, PoisonError},
    time::{Duration, Instant},
};

use tokio::sync::watch;

/// Lines written per kind of refused request and minute.
pub const LINES_PER_MINUTE: u64 = 100;
const MINUTE: Duration = Duration::from_secs(60);

/// A kind of refused request: its operation and outcome.
type Kind = (&'static str, &'static str);

/// The refused requests of the current minute, by kind.
pub(super) struct Sampler {
    minute: Mutex<Minute>,
}

struct Minute {
    started: Instant,
    seen: HashMap<Kind, u64>,
}

/// The process's sampler: the log is the process's, so is its budget.
pub(super) static REFUSED: LazyLock<Sampler> = LazyLock::new(|| Sampler::new(Instant::now()));

impl Sampler {
    fn new(now: Instant) -> Self {
        Self { minute: Mutex::new(Minute { started: now, seen: HashMap::new() }) }
    }

    /// Counts a refused request at `now`; whether its line is written.
    pub(super) fn admits(&self, operation: &'static str, outcome: &'static str, now: Instant) -> bool {
        let mut minute = self.minute.lock().unwrap_or_else(PoisonError::into_inner);
        minute.close_if_ended(now);
        let seen = minute.seen.entry((operation, outcome)).or_default();
        *seen += 1;
        *seen <= LINES_PER_MINUTE
    }

    /// Writes the summary of the minute, if it has ended by `now`.
    pub(super) fn close_if_ended(&self, now: Instant) {
        self.minute.lock().unwrap_or_else(PoisonError::into_inner).close_if_ended(now);
    }
}

impl Minute {
    fn close_if_ended(&mut self, now: Instant) {
        if now.duration_since(self.started) < MINUTE {
            return;
        }
        for ((operation, outcome), seen) in self.seen.drain() {
            summarise(operation, outcome, seen);
        }
        self.started = now;
    }
}

/// One line for the refused requests of a kind whose lines were left out.
fn summarise(operation: &str, outcome: &str, seen: u64) {
    if seen > LINES_PER_MINUTE {
        let left_out = seen - LINES_PER_MINUTE;
        tracing::info!(
            target: "tokend::request", operation, outcome, refused = seen, left_out,
            "refused requests in the last minute; only the first {LINES_PER_MINUTE} of them were logged"
        );
    }
}

/// Writes each minute's summary within seconds of its end, even if no
/// refused request follows, until `stopped` changes.
pub async fn summarise_each_minute(mut stopped: watch::Receiver<()>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => REFUSED.close_if_ended(Instant::now()),
            _ = stopped.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_writes_its_first_lines_each_minute_and_counts_the_rest() {
        let start = Instant::now();
        let sampler = Sampler::new(start);
        let written = (0..250).filter(|_| sampler.admits("IssueToken", "Unauthenticated", start)).count();
        assert_eq!(written as u64, LINES_PER_MINUTE);
        assert!(sampler.admits("IssueToken", "InvalidArgument", start), "another kind has its own budget");
        let next_minute = start + MINUTE;
        assert!(sampler.admits("IssueToken", "Unauthenticated", next_minute), "the budget comes back");
        let minute = sampler.minute.lock().unwrap();
        assert_eq!(minute.seen.get(&("IssueToken", "Unauthenticated")), Some(&1));
        assert_eq!(minute.started, next_minute);
    }
}
