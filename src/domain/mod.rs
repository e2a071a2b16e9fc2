//! Value types parsed at the edge, so the rest of the code never re-checks them.

mod audience;
mod client;
mod client_id;
mod scope;
mod secret;
mod ttl;

pub use audience::{Audience, AudienceList};
pub use client::{Client, ClientDetails, SecretInfo};
pub use client_id::ClientId;
pub use scope::{Scope, ScopeSet};
pub use secret::{ClientSecret, SecretId};
pub use ttl::TokenTtl;

/// Why a value failed to parse, in words fit to send back to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);
