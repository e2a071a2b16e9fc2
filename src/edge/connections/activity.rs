//! When a connection last had work: the calls in flight on it and when the
//! last one ended, from which it is closed as silent or idle, or chosen to
//! make room at the connection cap.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::time::Instant;

use super::ConnectionLimits;

/// Calls in flight on one connection, and when the last ended.
pub(super) struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    spoke: AtomicBool,
    /// Milliseconds after `opened` at which the last call ended.
    last_end_ms: AtomicU64,
}

impl Activity {
    pub(super) fn new() -> Self {
        Self {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            spoke: AtomicBool::new(false),
            last_end_ms: AtomicU64::new(0),
        }
    }

    /// Counts a call in flight until the returned guard is dropped, answered or not.
    pub(super) fn begin(self: &Arc<Self>) -> InFlight {
        self.spoke.store(true, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// Since when the connection has had no call in flight (since it opened,
    /// if it never had one); `None` while a call is in flight.
    pub(super) fn idle_since(&self) -> Option<Instant> {
        (self.in_flight.load(Ordering::Relaxed) == 0).then(|| self.last_end())
    }

    fn last_end(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_end_ms.load(Ordering::Relaxed))
    }

    /// Completes once the connection has sent no request within the header
    /// timeout of opening, or has had no call in flight for the idle timeout.
    pub(super) async fn idle(&self, limits: &ConnectionLimits) {
        let mut check_at = self.opened + limits.header_timeout;
        loop {
            tokio::time::sleep_until(check_at).await;
            if !self.spoke.load(Ordering::Relaxed) {
                return;
            }
            if self.in_flight.load(Ordering::Relaxed) > 0 {
                check_at = Instant::now() + limits.idle_timeout;
                continue;
            }
            check_at = self.last_end() + limits.idle_timeout;
            if check_at <= Instant::now() {
                return;
            }
        }
    }
}

/// One call in flight on a connection.
pub(super) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        activity.last_end_ms.store(activity.opened.elapsed().as_millis() as u64, Ordering::Relaxed);
        activity.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            max_connections: 4,
            max_per_address: 0,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_never_speaks_is_idle_after_the_header_timeout() {
        let activity = Activity::new();
        let started = Instant::now();
        activity.idle(&limits()).await;
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_in_flight_keeps_a_connection_open() {
        let activity = Arc::new(Activity::new());
        let call = activity.begin();
        let watched = activity.clone();
        let idle = tokio::spawn(async move { watched.idle(&limits()).await });
        tokio::time::sleep(Duration::from_secs(300)).await;
        assert!(!idle.is_finished(), "closed while a call was in flight");
        drop(call);
        let ended = Instant::now();
        idle.await.unwrap();
        assert!(ended.elapsed() >= Duration::from_secs(120));
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_is_idle_since_its_last_call_ended() {
        let activity = Arc::new(Activity::new());
        let call = activity.begin();
        assert_eq!(activity.idle_since(), None);
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(call);
        let ended = Instant::now();
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(activity.idle_since(), Some(ended));
    }
}
