//! Who holds a listener's connections: how many each source address has open,
//! so one address cannot take every slot, and which connection has been idle
//! the longest, so that at the cap it makes room for a new arrival.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
};

use tokio::sync::Notify;

use super::activity::Activity;

/// The open connections of one listener.
pub(super) struct Roster {
    /// Connections one address may hold; 0 for no limit.
    per_address: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    next_id: u64,
    seats: HashMap<u64, Held>,
    by_address: HashMap<IpAddr, usize>,
}

/// What the roster knows of one open connection.
struct Held {
    activity: Arc<Activity>,
    evict: Arc<Notify>,
}

/// A connection's place on the roster, given up when dropped.
pub(super) struct Seat {
    roster: Arc<Roster>,
    id: u64,
    address: IpAddr,
    pub(super) activity: Arc<Activity>,
    /// Notified when the connection is to close to make room.
    pub(super) evict: Arc<Notify>,
}

impl Roster {
    pub(super) fn new(per_address: usize) -> Arc<Self> {
        Arc::new(Self { per_address, open: Mutex::default() })
    }

    /// A seat for a connection from `address`; `None` when that address holds its share already.
    pub(super) fn seat(self: &Arc<Self>, address: IpAddr) -> Option<Seat> {
        let mut open = self.open.lock().expect("the roster lock is never poisoned");
        let held = open.by_address.entry(address).or_default();
        if self.per_address > 0 && *held >= self.per_address {
            return None;
        }
        *held += 1;
        let id = open.next_id;
        open.next_id += 1;
        let activity = Arc::new(Activity::new());
        let evict = Arc::new(Notify::new());
        open.seats.insert(id, Held { activity: activity.clone(), evict: evict.clone() });
        Some(Seat { roster: self.clone(), id, address, activity, evict })
    }

    /// Asks the connection with no call in flight that has been idle the
    /// longest to close; false when every connection has a call in flight.
    pub(super) fn evict_longest_idle(&self) -> bool {
        let open = self.open.lock().expect("the roster lock is never poisoned");
        let longest_idle = open
            .seats
            .values()
            .filter_map(|held| Some((held.activity.idle_since()?, held)))
            .min_by_key(|(since, _)| *since);
        match longest_idle {
            Some((_, held)) => {
                held.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut open = self.roster.open.lock().expect("the roster lock is never poisoned");
        open.seats.remove(&self.id);
        if let Some(held) = open.by_address.get_mut(&self.address) {
            *held -= 1;
            if *held == 0 {
                open.by_address.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const HOLDER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn an_address_holds_its_share_and_no_more() {
        let roster = Roster::new(2);
        let first = roster.seat(HOLDER).unwrap();
        let _second = roster.seat(HOLDER).unwrap();
        assert!(roster.seat(HOLDER).is_none());
        assert!(roster.seat(OTHER).is_some(), "other addresses have their own share");
        drop(first);
        assert!(roster.seat(HOLDER).is_some(), "a closed connection gives its seat back");
    }

    #[test]
    fn without_a_share_an_address_may_hold_any_number() {
        let roster = Roster::new(0);
        let seats: Vec<_> = (0..100).map(|_| roster.seat(HOLDER).unwrap()).collect();
        assert_eq!(seats.len(), 100);
    }

    #[tokio::test(start_paused = true)]
    async fn the_connection_idle_longest_is_asked_to_make_room() {
        let roster = Roster::new(0);
        let busy = roster.seat(HOLDER).unwrap();
        let _call = busy.activity.begin();
        let long_idle = roster.seat(HOLDER).unwrap();
        let long_call = long_idle.activity.begin();
        let recent = roster.seat(OTHER).unwrap();
        let recent_call = recent.activity.begin();
        drop(long_call);
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(recent_call);

        assert!(roster.evict_longest_idle());
        let asked = tokio::time::timeout(Duration::from_millis(1), long_idle.evict.notified()).await;
        assert!(asked.is_ok(), "the connection idle longest is asked to close");
        let spared = tokio::time::timeout(Duration::from_millis(1), recent.evict.notified()).await;
        assert!(spared.is_err(), "a connection idle for less time is left open");
    }

    #[test]
    fn connections_with_calls_in_flight_are_never_asked() {
        let roster = Roster::new(0);
        let busy = roster.seat(HOLDER).unwrap();
        let _call = busy.activity.begin();
        assert!(!roster.evict_longest_idle());
    }
}
