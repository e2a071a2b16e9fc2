//! How many registration requests one address may make a minute, and how
//! many registrations the whole fleet takes a minute (each instance its
//! share): counters for the current minute, forgotten when the minute turns.
//! Registration is rare, so one lock serves every address.

use std::{collections::HashMap, net::IpAddr, sync::Mutex, time::Duration};

use crate::authority::AuthError;

const WINDOW_SECONDS: i64 = 60;

pub struct AddressLimiter {
    per_minute: u32,
    /// The minute counted, and each address's requests within it.
    window: Mutex<(i64, HashMap<IpAddr, u32>)>,
}

impl AddressLimiter {
    /// At most `per_minute` requests a minute from one address; 0 is unlimited.
    pub fn new(per_minute: u32) -> Self {
        Self { per_minute, window: Mutex::new((0, HashMap::new())) }
    }

    /// Counts a request from `address` at `now` (Unix seconds): refused past the limit.
    pub fn admit(&self, address: Option<IpAddr>, now: i64) -> Result<(), AuthError> {
        let Some(address) = address.filter(|_| self.per_minute > 0) else {
            return Ok(());
        };
        let minute = now.div_euclid(WINDOW_SECONDS);
        let mut window = self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if window.0 != minute {
            *window = (minute, HashMap::new());
        }
        let count = window.1.entry(address).or_insert(0);
        if *count >= self.per_minute {
            let wait = (minute + 1) * WINDOW_SECONDS - now;
            return Err(AuthError::TooManyRequests {
                message: format!(
                    "at most {} registration requests a minute from one address",
                    self.per_minute
                ),
                retry_after: Duration::from_secs(wait.max(1) as u64),
            });
        }
        *count += 1;
        Ok(())
    }
}

/// New registrations a minute across the fleet, each instance taking an
/// equal share: a flood from many addresses costs at most this many argon2
/// hashes and stored clients a minute, whoever sends it.
pub struct FleetQuota {
    per_minute: u32,
    /// The minute counted, and the registrations taken here within it.
    window: Mutex<(i64, u32)>,
}

impl FleetQuota {
    /// At most `per_minute` registrations a minute in all; 0 is unlimited.
    pub fn new(per_minute: u32) -> Self {
        Self { per_minute, window: Mutex::new((0, 0)) }
    }

    /// Takes one registration at `now` from this instance's share of a fleet of `instances`.
    pub fn admit(&self, now: i64, instances: u32) -> Result<(), AuthError> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let share = self.per_minute.div_ceil(instances.max(1));
        let minute = now.div_euclid(WINDOW_SECONDS);
        let mut window = self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if window.0 != minute {
            *window = (minute, 0);
        }
        if window.1 >= share {
            let wait = (minute + 1) * WINDOW_SECONDS - now;
            return Err(AuthError::TooManyRequests {
                message: format!("this server takes at most {} registrations a minute", self.per_minute),
                retry_after: Duration::from_secs(wait.max(1) as u64),
            });
        }
        window.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_takes_its_registrations_a_minute_in_equal_shares() {
        let quota = FleetQuota::new(6);
        for _ in 0..3 {
            quota.admit(600, 2).unwrap();
        }
        assert!(
            matches!(quota.admit(610, 2), Err(AuthError::TooManyRequests { .. })),
            "half of 6 on each of two"
        );
        quota.admit(660, 2).unwrap();
        let alone = FleetQuota::new(6);
        for _ in 0..6 {
            alone.admit(600, 1).unwrap();
        }
        assert!(alone.admit(600, 1).is_err());
        FleetQuota::new(0).admit(600, 1).unwrap();
    }

    #[test]
    fn an_address_past_its_limit_waits_for_the_next_minute_and_others_do_not() {
        let limiter = AddressLimiter::new(2);
        let (one, two) = (Some("10.0.0.1".parse().unwrap()), Some("10.0.0.2".parse().unwrap()));
        limiter.admit(one, 600).unwrap();
        limiter.admit(one, 601).unwrap();
        match limiter.admit(one, 610) {
            Err(AuthError::TooManyRequests { retry_after, .. }) => assert_eq!(retry_after.as_secs(), 50),
            other => panic!("{other:?}"),
        }
        limiter.admit(two, 610).unwrap();
        limiter.admit(one, 660).unwrap();
        AddressLimiter::new(0).admit(one, 600).unwrap();
    }
}
