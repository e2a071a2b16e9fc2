//! An audit event as the core hands it out to the adapters and the CLI,
//! so none of them reads the store's row type.

use crate::store::EventRow;

/// One event of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub event_id: String,
    /// Unix milliseconds.
    pub occurred_at: i64,
    pub event_type: String,
    /// Who acted: a client id, `cli`, `anonymous` or `tokend`.
    pub actor: String,
    /// What it acted on: a client id, a key id, an address.
    pub target: String,
    /// Where from: the caller's address, when known.
    pub origin: String,
    /// The event's details, a JSON object as text.
    pub details: String,
}

impl From<EventRow> for AuditEvent {
    fn from(row: EventRow) -> Self {
        let EventRow { event_id, occurred_at, event_type, actor, target, origin, details } = row;
        Self { event_id, occurred_at, event_type, actor, target, origin, details }
    }
}
