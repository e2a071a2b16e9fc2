//! The audit trail: who changed what, when and from where, written in the
//! same transaction as the change; failed authentications aggregated per
//! client per minute (those of ids no client has, into one per minute); throttling; a live stream of events as any instance
//! commits them; and, when asked for, a JSON line per issued token.
//!
//! - `actor`: who an event names as having acted, and building its row.
//! - `failures`: the per-minute tallies of failed authentications.
//! - `watch`: the live stream, read from the store so every instance's events reach it.
//! - `issuance`: the issuance log, written off the request path.

mod actor;
mod event;
mod failures;
mod issuance;
mod watch;

use std::{collections::HashSet, net::IpAddr, sync::Arc};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use tokio::sync::broadcast;

use super::{AuthError, Clock, paging};
use crate::store::{EventFilter, EventRow, Store};

pub use actor::{Actor, EventType};
pub use event::AuditEvent;
pub use failures::OTHERS as UNNAMED_CLIENT;
use failures::{FailureTallies, Tally};
pub use issuance::{IssuanceLog, IssuedLine};
use watch::EventHub;

/// Ninety days, in seconds.
pub const DEFAULT_RETENTION_SECONDS: i64 = 90 * 86_400;

/// What the audit trail keeps, and where issued tokens are logged.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// How long events are kept, in seconds.
    pub retention_seconds: i64,
    /// Where each issued token is written as a JSON line; `None` for nowhere.
    pub issuance: Option<Arc<IssuanceLog>>,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self { retention_seconds: DEFAULT_RETENTION_SECONDS, issuance: None }
    }
}

/// One page of events, newest first, and the token that fetches the next.
#[derive(Debug)]
pub struct EventPage {
    pub events: Vec<AuditEvent>,
    pub next_page_token: Option<String>,
}

/// Which events to list or watch, as a reader asks for them.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub client_id: String,
    pub types: Vec<String>,
    /// Unix milliseconds; 0 for the start of the trail.
    pub since: i64,
}

impl EventQuery {
    /// The store's filter, once every type named is known.
    fn filter(&self) -> Result<EventFilter, AuthError> {
        if let Some(unknown) = self.types.iter().find(|name| EventType::parse(name).is_none()) {
            return Err(AuthError::InvalidArgument(format!(
                "unknown event type {unknown:?}; the types are {}",
                EventType::ALL.map(EventType::as_str).join(", ")
            )));
        }
        Ok(EventFilter { target: self.client_id.clone(), types: self.types.clone(), since: self.since })
    }

    /// Whether `event` is one this query asks for.
    pub fn matches(&self, event: &AuditEvent) -> bool {
        (self.client_id.is_empty() || event.target == self.client_id)
            && (self.types.is_empty() || self.types.contains(&event.event_type))
            && event.occurred_at >= self.since
    }
}

/// The audit trail of one instance; clones share it.
#[derive(Clone)]
pub struct AuditTrail {
    store: Store,
    clock: Clock,
    failures: Arc<FailureTallies>,
    /// Held while ended tallies are written, so a second upkeep (the
    /// periodic one and one asked for) waits for the first to commit.
    writing_failures: Arc<tokio::sync::Mutex<()>>,
    hub: Arc<EventHub>,
    settings: AuditSettings,
}

impl AuditTrail {
    pub fn new(store: Store, clock: Clock, settings: AuditSettings) -> Self {
        Self {
            hub: Arc::new(EventHub::new(store.clone(), clock.clone())),
            store,
            clock,
            failures: Arc::default(),
            writing_failures: Arc::default(),
            settings,
        }
    }

    /// The row of an event `actor` caused now.
    pub fn event(
        &self,
        actor: &Actor,
        kind: EventType,
        target: &str,
        details: serde_json::Value,
    ) -> EventRow {
        actor.event(self.clock.now_millis(), kind, target, details)
    }

    /// Counts a failed authentication of `client_id` by `method` from
    /// `address`; written with the others of its minute at the next upkeep.
    pub fn authentication_failed(&self, client_id: &str, method: &'static str, address: Option<IpAddr>) {
        self.failures.record(client_id, method, address, self.clock.now());
    }

    /// Writes events that record no change of their own (throttling).
    pub async fn record(&self, events: &[EventRow]) -> Result<(), AuthError> {
        Ok(self.store.insert_events(events).await?)
    }

    /// The issuance log, when one is kept.
    pub fn issuance(&self) -> Option<&IssuanceLog> {
        self.settings.issuance.as_deref()
    }

    /// Writes the failed-authentication tallies of minutes that have ended,
    /// and forgets events past the retention.
    pub async fn maintain(&self) -> Result<(), AuthError> {
        let _writing = self.writing_failures.lock().await;
        let tallies = self.failures.take_ended(self.clock.now());
        if !tallies.is_empty() {
            let ids: Vec<&str> = tallies.iter().map(Tally::client_id).collect();
            let registered: HashSet<String> =
                self.store.registered_client_ids(&ids).await?.into_iter().collect();
            let now = self.clock.now_millis();
            let tallies = failures::fold_unregistered(tallies, &registered);
            let events: Vec<EventRow> = tallies.into_iter().map(|tally| tally.event(now)).collect();
            self.store.insert_events(&events).await?;
        }
        let horizon = self.clock.now_millis() - self.settings.retention_seconds.saturating_mul(1000);
        self.store.purge_events(horizon).await?;
        Ok(())
    }

    /// Events matching `query`, newest first, `page_size` at a time (0 selects 50; at most 500).
    pub async fn list(
        &self,
        query: &EventQuery,
        page_size: i64,
        page_token: &str,
    ) -> Result<EventPage, AuthError> {
        let size = paging::page_size(page_size)?;
        let (time, id) = decode_page_token(page_token)?;
        let mut events = self.store.events_before(&query.filter()?, (time, &id), size + 1).await?;
        let more = events.len() as i64 > size;
        events.truncate(size as usize);
        let next_page_token = events
            .last()
            .filter(|_| more)
            .map(|last| URL_SAFE_NO_PAD.encode(format!("{}:{}", last.occurred_at, last.event_id)));
        Ok(EventPage { events: events.into_iter().map(AuditEvent::from).collect(), next_page_token })
    }

    /// Every event committed from now on, by any instance on the store,
    /// within about a second; the receiver filters with [`EventQuery::matches`].
    pub fn watch(&self, query: &EventQuery) -> Result<broadcast::Receiver<Arc<AuditEvent>>, AuthError> {
        query.filter()?;
        Ok(self.hub.subscribe())
    }
}

/// Where a page starts: after the event a page token names, or at the newest.
fn decode_page_token(token: &str) -> Result<(i64, String), AuthError> {
    if token.is_empty() {
        return Ok((i64::MAX, String::new()));
    }
    let bad = || AuthError::InvalidArgument("page_token is not one this server issued".into());
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (time, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((time.parse().map_err(|_| bad())?, id.to_owned()))
}
