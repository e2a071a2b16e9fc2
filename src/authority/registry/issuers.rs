//! Trusted issuers: added, listed and removed by administrators, and held
//! in memory for the hot path, where finding an assertion's issuer is one
//! map lookup. Loaded when first needed, read again on every upkeep round
//! so changes made by other instances or the CLI arrive within seconds.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
};

use serde_json::json;
use tokio::sync::OnceCell;

use super::Registry;
use crate::{
    authority::{Actor, AuthError, EventType},
    domain::{IssuerDraft, TrustedIssuer, quoted},
    store::{StoreError, TrustedIssuerRow},
};

/// Every trusted issuer, by its `iss`.
type ByIssuer = HashMap<String, Arc<TrustedIssuer>>;

/// The trusted issuers as this instance last read them.
#[derive(Default)]
pub struct TrustedIssuers {
    current: RwLock<Arc<ByIssuer>>,
    loaded: OnceCell<()>,
}

impl TrustedIssuers {
    fn replace(&self, issuers: Vec<TrustedIssuer>) {
        let by_issuer = issuers.into_iter().map(|issuer| (issuer.issuer.clone(), Arc::new(issuer))).collect();
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(by_issuer);
    }

    fn snapshot(&self) -> Arc<ByIssuer> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Registry {
    /// The trusted issuer whose tokens carry `iss`, if there is one.
    pub async fn trusted_issuer(&self, iss: &str) -> Result<Option<Arc<TrustedIssuer>>, AuthError> {
        self.issuers.loaded.get_or_try_init(|| self.reload_issuers()).await?;
        Ok(self.issuers.snapshot().get(iss).cloned())
    }

    /// Reads every trusted issuer from the store again.
    pub async fn reload_issuers(&self) -> Result<(), AuthError> {
        let rows = self.store.trusted_issuers().await?;
        let issuers = rows.into_iter().map(TrustedIssuer::try_from).collect::<Result<Vec<_>, _>>()?;
        self.issuers.replace(issuers);
        Ok(())
    }

    /// Trusts a new issuer, on `actor`'s behalf.
    pub async fn add_trusted_issuer(
        &self,
        draft: IssuerDraft,
        actor: &Actor,
    ) -> Result<TrustedIssuer, AuthError> {
        let issuer =
            TrustedIssuer::parse(draft, self.clock.now()).map_err(|err| AuthError::InvalidArgument(err.0))?;
        let row = TrustedIssuerRow::from(&issuer);
        let details = json!({ "audiences": row.audiences.split_whitespace().collect::<Vec<_>>(), "single_use": issuer.single_use });
        let event =
            actor.event(self.clock.now_millis(), EventType::TrustedIssuerAdded, &issuer.issuer, details);
        match self.store.insert_trusted_issuer(&row, &[event]).await {
            Err(StoreError::Conflict) => {
                return Err(AuthError::AlreadyExists(format!(
                    "issuer {} is trusted already",
                    quoted(&issuer.issuer)
                )));
            }
            other => other?,
        }
        self.reload_issuers().await?;
        Ok(issuer)
    }

    /// One trusted issuer, as the store has it.
    pub async fn trusted_issuer_details(&self, iss: &str) -> Result<TrustedIssuer, AuthError> {
        let issuers = self.list_trusted_issuers().await?;
        issuers.into_iter().find(|issuer| issuer.issuer == iss).ok_or_else(|| not_trusted(iss))
    }

    /// Every trusted issuer, as the store has it, in issuer order.
    pub async fn list_trusted_issuers(&self) -> Result<Vec<TrustedIssuer>, AuthError> {
        let rows = self.store.trusted_issuers().await?;
        rows.into_iter().map(TrustedIssuer::try_from).collect()
    }

    /// Stops trusting an issuer, on `actor`'s behalf: its tokens
    /// authenticate no one from now on.
    pub async fn remove_trusted_issuer(&self, iss: &str, actor: &Actor) -> Result<(), AuthError> {
        let event = actor.event(self.clock.now_millis(), EventType::TrustedIssuerRemoved, iss, json!({}));
        let removed = self.store.delete_trusted_issuer(iss, &[event]).await?;
        self.reload_issuers().await?;
        if !removed {
            return Err(not_trusted(iss));
        }
        Ok(())
    }
}

fn not_trusted(iss: &str) -> AuthError {
    AuthError::NotFound(format!("issuer {} is not trusted", quoted(iss)))
}

impl From<&TrustedIssuer> for TrustedIssuerRow {
    fn from(issuer: &TrustedIssuer) -> Self {
        let draft = issuer.to_draft();
        TrustedIssuerRow {
            issuer: draft.issuer,
            jwks: draft.jwks,
            jwks_uri: draft.jwks_uri,
            discovery: i64::from(draft.discovery),
            audiences: draft.audiences.join(" "),
            max_assertion_lifetime_seconds: draft.max_assertion_lifetime_seconds,
            single_use: i64::from(draft.single_use),
            created_at: issuer.created_at,
        }
    }
}

impl TryFrom<TrustedIssuerRow> for TrustedIssuer {
    type Error = AuthError;

    /// A row that does not parse was not written by this code: an internal fault.
    fn try_from(row: TrustedIssuerRow) -> Result<Self, Self::Error> {
        let draft = IssuerDraft {
            issuer: row.issuer.clone(),
            jwks_uri: row.jwks_uri,
            jwks: row.jwks,
            discovery: row.discovery != 0,
            audiences: row.audiences.split_whitespace().map(str::to_owned).collect(),
            max_assertion_lifetime_seconds: row.max_assertion_lifetime_seconds,
            single_use: row.single_use != 0,
        };
        TrustedIssuer::parse(draft, row.created_at)
            .map_err(|err| AuthError::internal(format!("stored issuer {:?} is corrupt: {err}", row.issuer)))
    }
}
