//! The `events` command: the audit trail, newest first, straight from the database.

use serde_json::json;

use crate::{
    authority::{AuditEvent, AuditTrail, AuthError, EventQuery},
    cli::config::EventsCommand,
};

/// Runs one events command and returns what to print.
pub async fn run(audit: &AuditTrail, command: EventsCommand) -> Result<String, AuthError> {
    match command {
        EventsCommand::List { client, types, limit, json } => {
            let query = EventQuery { client_id: client.unwrap_or_default(), types, since: 0 };
            let events = audit.list(&query, limit, "").await?.events;
            Ok(match json {
                true => events.iter().map(|event| as_json(event).to_string()).collect::<Vec<_>>().join("\n"),
                false => table(&events),
            })
        }
    }
}

/// One event as a JSON object, its details as an object rather than text.
fn as_json(event: &AuditEvent) -> serde_json::Value {
    let details: serde_json::Value = serde_json::from_str(&event.details).unwrap_or_default();
    json!({
        "id": event.event_id,
        "time": rfc3339(event.occurred_at),
        "type": event.event_type,
        "actor": event.actor,
        "target": event.target,
        "origin": event.origin,
        "details": details,
    })
}

/// Unix milliseconds as RFC 3339 UTC, to the millisecond.
fn rfc3339(millis: i64) -> String {
    let time = super::utc(millis.div_euclid(1000)).replace(' ', "T");
    format!("{time}.{:03}Z", millis.rem_euclid(1000))
}

fn table(events: &[AuditEvent]) -> String {
    let mut out = format!(
        "{:<19} {:<28} {:<24} {:<24} {:<15} {}",
        "TIME (UTC)", "TYPE", "ACTOR", "TARGET", "ORIGIN", "DETAILS"
    );
    for event in events {
        out.push_str(&format!(
            "\n{:<19} {:<28} {:<24} {:<24} {:<15} {}",
            super::utc(event.occurred_at.div_euclid(1000)),
            event.event_type,
            event.actor,
            event.target,
            event.origin,
            event.details
        ));
    }
    out
}
