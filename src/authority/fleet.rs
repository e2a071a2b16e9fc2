//! This instance's place among the instances serving on one database: how
//! many are alive, which divides each client's rate limit between them, and
//! whether it is the one that writes the fleet's throttling events (the
//! first alive by id). Learned from a heartbeat at every upkeep, and at once
//! when an instance joins or leaves (PostgreSQL's `NOTIFY`). An instance
//! that dies without leaving stops counting after [`ALIVE_FOR`] seconds.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::{authority::AuthError, store::Store};

/// How long an instance counts as alive after its last heartbeat: three upkeeps.
pub const ALIVE_FOR: i64 = 15;
/// How long the row of an instance that died without leaving is kept.
const FORGOTTEN_AFTER: i64 = 3600;

pub struct Fleet {
    instance_id: String,
    /// The instances alive, this one included: at least 1.
    size: AtomicU32,
    /// Whether this instance is the first alive by id.
    leads: AtomicBool,
}

impl Fleet {
    /// A fleet of one, `instance_id`, until the store says otherwise.
    pub fn new(instance_id: String) -> Self {
        Self { instance_id, size: AtomicU32::new(1), leads: AtomicBool::new(true) }
    }

    pub fn size(&self) -> u32 {
        self.size.load(Ordering::Relaxed)
    }

    pub fn leads(&self) -> bool {
        self.leads.load(Ordering::Relaxed)
    }

    /// Records this instance as serving, tells the others, and counts them.
    pub async fn join(&self, store: &Store, now: i64) -> Result<(), AuthError> {
        store.join_fleet(&self.instance_id, now).await?;
        self.recount(store, now).await
    }

    /// Notes that this instance is alive and counts the others, at upkeep.
    pub async fn beat(&self, store: &Store, now: i64) -> Result<(), AuthError> {
        let alive =
            store.fleet_heartbeat(&self.instance_id, now, now - ALIVE_FOR, now - FORGOTTEN_AFTER).await?;
        self.apply(&alive);
        Ok(())
    }

    /// Counts the instances alive again, as when one joined or left.
    pub async fn recount(&self, store: &Store, now: i64) -> Result<(), AuthError> {
        let alive = store.fleet(now - ALIVE_FOR).await?;
        self.apply(&alive);
        Ok(())
    }

    /// Takes this instance out of the fleet as it stops, so the others
    /// re-split at once rather than after [`ALIVE_FOR`].
    pub async fn leave(&self, store: &Store) -> Result<(), AuthError> {
        Ok(store.leave_fleet(&self.instance_id).await?)
    }

    fn apply(&self, alive: &[String]) {
        let counted = alive.contains(&self.instance_id);
        let size = alive.len() + usize::from(!counted);
        self.size.store(u32::try_from(size).unwrap_or(u32::MAX).max(1), Ordering::Relaxed);
        let first = alive.first().is_none_or(|id| *id >= self.instance_id);
        self.leads.store(first, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_counts_this_instance_and_the_first_id_leads() {
        let fleet = Fleet::new("b".into());
        fleet.apply(&["a".into(), "b".into(), "c".into()]);
        assert_eq!((fleet.size(), fleet.leads()), (3, false));
        fleet.apply(&["b".into(), "c".into()]);
        assert_eq!((fleet.size(), fleet.leads()), (2, true));
        fleet.apply(&["a".into()]);
        assert_eq!(
            (fleet.size(), fleet.leads()),
            (2, false),
            "not yet seen by the store: still one of the fleet"
        );
        fleet.apply(&[]);
        assert_eq!((fleet.size(), fleet.leads()), (1, true));
    }
}
