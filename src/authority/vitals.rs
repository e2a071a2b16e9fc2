//! What the authority can tell about itself when metrics are scraped: how
//! credential checks ended, the argon2 queue, the signing keys' ages, the
//! clients, the store's failures, the issuance log's dropped lines and the
//! instances of the fleet. Read
//! when asked, never on the request path.

use super::{AuthError, Authority, CheckResult, IssuanceLog, KeyListing, KeyRing, ThrottleCounts};

/// One reading of the authority's state.
#[derive(Debug, Clone, Default)]
pub struct Vitals {
    pub credential_checks: Vec<(CheckResult, u64)>,
    pub argon2_queue_depth: u64,
    /// Each published key's kid and age in seconds.
    pub key_ages: Vec<(String, i64)>,
    pub clients_registered: i64,
    pub clients_active: i64,
    /// Failed request-path queries by store operation.
    pub store_errors: Vec<(&'static str, u64)>,
    pub throttling: Vec<ThrottleCounts>,
    /// The soonest time some client's last live secret expires, if any does.
    pub soonest_secret_expiry: Option<i64>,
    /// When the next scheduled key rotation is due; `None` without a schedule.
    pub next_key_rotation: Option<i64>,
    /// Issuance log lines dropped, when the log is kept.
    pub issuance_lines_dropped: Option<u64>,
    /// The instances serving on this database, this one included.
    pub fleet_instances: u32,
}

impl Authority {
    /// Reads the authority's state; the key and client figures need the store.
    pub async fn vitals(&self) -> Result<Vitals, AuthError> {
        let now = self.clock.now();
        let (credential_checks, argon2_queue_depth) = self.secrets.credential_counts();
        let KeyListing { keys, next_rotation: next_key_rotation } = KeyRing::list(&self.store, now).await?;
        let (clients_registered, clients_active) = self.store.count_clients().await?;
        let soonest_secret_expiry = self.store.soonest_credential_loss(now).await?;
        Ok(Vitals {
            credential_checks,
            argon2_queue_depth,
            key_ages: keys.into_iter().map(|key| (key.kid, now - key.created_at)).collect(),
            clients_registered,
            clients_active,
            store_errors: self.store.error_counts(),
            throttling: self.secrets.throttle_counts(),
            soonest_secret_expiry,
            next_key_rotation,
            issuance_lines_dropped: self.audit.issuance().map(IssuanceLog::dropped),
            fleet_instances: self.fleet.size(),
        })
    }
}
