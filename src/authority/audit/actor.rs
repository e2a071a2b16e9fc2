//! Who an audit event names as having acted, what kind of event it is, and
//! the event's row.

use std::net::IpAddr;

use crate::{authority::tokens::random_tag, domain::ClientId, store::EventRow};

/// Who acted, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// An admin client's id; `cli:USER` for the command line; `tokend` for
    /// what the server itself records; `anonymous` for failed authentications.
    name: String,
    /// The peer address of the request; `local` for the command line.
    origin: String,
}

impl Actor {
    /// An admin client calling over the network.
    pub fn admin(client_id: &ClientId, address: Option<IpAddr>) -> Self {
        Self {
            name: client_id.as_str().to_owned(),
            origin: address.map(|a| a.to_string()).unwrap_or_default(),
        }
    }

    /// An operator at the command line, named by the OS user. Client ids
    /// cannot hold `:`, so no client can pass for one.
    pub fn cli() -> Self {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| format!("uid {}", real_uid()));
        Self { name: format!("cli:{user}"), origin: "local".into() }
    }

    /// The server itself (throttling it decided).
    pub fn server() -> Self {
        Self { name: "tokend".into(), origin: String::new() }
    }

    /// Callers that failed to authenticate, seen from `origin`.
    pub fn anonymous(origin: String) -> Self {
        Self { name: "anonymous".into(), origin }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The row of an event this actor caused at `time` (Unix milliseconds).
    pub fn event(&self, time: i64, kind: EventType, target: &str, details: serde_json::Value) -> EventRow {
        EventRow {
            event_id: random_tag::<12>(),
            occurred_at: time,
            event_type: kind.as_str().into(),
            actor: self.name.clone(),
            target: target.into(),
            origin: self.origin.clone(),
            details: details.to_string(),
        }
    }
}

/// The process's real user id, read from procfs (no unsafe `getuid`).
fn real_uid() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("Uid:"))?;
            line.split_whitespace().nth(1).map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Every kind of audit event, under the name it is stored and filtered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    ClientCreated,
    ClientUpdated,
    ClientDisabled,
    ClientEnabled,
    ClientDeleted,
    ClientKeyAdded,
    ClientKeyRemoved,
    SecretRotated,
    KeyRotated,
    KeyRetired,
    KeysResealed,
    TokenRevoked,
    TrustedIssuerAdded,
    TrustedIssuerRemoved,
    ClientAuthenticationFailed,
    ThrottlingStarted,
    ThrottlingEnded,
}

impl EventType {
    pub const ALL: [EventType; 17] = [
        EventType::ClientCreated,
        EventType::ClientUpdated,
        EventType::ClientDisabled,
        EventType::ClientEnabled,
        EventType::ClientDeleted,
        EventType::ClientKeyAdded,
        EventType::ClientKeyRemoved,
        EventType::SecretRotated,
        EventType::KeyRotated,
        EventType::KeyRetired,
        EventType::KeysResealed,
        EventType::TokenRevoked,
        EventType::TrustedIssuerAdded,
        EventType::TrustedIssuerRemoved,
        EventType::ClientAuthenticationFailed,
        EventType::ThrottlingStarted,
        EventType::ThrottlingEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ClientCreated => "client_created",
            EventType::ClientUpdated => "client_updated",
            EventType::ClientDisabled => "client_disabled",
            EventType::ClientEnabled => "client_enabled",
            EventType::ClientDeleted => "client_deleted",
            EventType::SecretRotated => "secret_rotated",
            EventType::KeyRotated => "key_rotated",
            EventType::KeyRetired => "key_retired",
            EventType::KeysResealed => "keys_resealed",
            EventType::TokenRevoked => "token_revoked",
            EventType::TrustedIssuerAdded => "trusted_issuer_added",
            EventType::TrustedIssuerRemoved => "trusted_issuer_removed",
            EventType::ClientAuthenticationFailed => "client_authentication_failed",
            EventType::ThrottlingStarted => "throttling_started",
            EventType::ThrottlingEnded => "throttling_ended",
            EventType::ClientKeyAdded => "client_key_added",
            EventType::ClientKeyRemoved => "client_key_removed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_from_its_name() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventType::parse("client_exploded"), None);
    }

    #[test]
    fn the_command_line_is_an_actor_no_client_can_be() {
        let cli = Actor::cli();
        assert!(cli.name().starts_with("cli:"));
        assert!(ClientId::parse(cli.name()).is_err());
    }
}
